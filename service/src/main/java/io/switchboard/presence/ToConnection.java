package io.switchboard.presence;

import io.switchboard.cluster.CborSerializable;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.cluster.SendPathSerializable;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A message to one client connection's actor. Presence owns this protocol: the records below are what a
 * user's {@link UserPresence} entity (directly or through {@link NodeFanout}) tells the connections it
 * holds. A connection actor's own messages extend this interface, so that its behavior accepts both.
 */
public interface ToConnection {

  /** A message for this client, from the user's entity or from this node. */
  record Deliver(OutboundMessage message) implements ToConnection, SendPathSerializable {}

  /** Close the socket with this code and reason (e.g. 4000 when the app closes the user's sessions). */
  record Close(int code, String reason) implements ToConnection, CborSerializable {}

  /** The user's entity holds this connection; the connection watches {@code presence}. */
  record Registered(ActorRef<UserPresence.Command> presence) implements ToConnection, CborSerializable {}

  /**
   * The user's entity was told this connection stopped (which can be wrong for a moment after its node
   * restarted): register again, so that it knows the connection is open.
   */
  record ConfirmRegistration() implements ToConnection, CborSerializable {}
}
