package io.switchboard.connection;

import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.presence.ToConnection;
import org.apache.pekko.actor.typed.ActorRef;

/** Makes the {@link ConnectionActor} of a socket whose handshake completed. */
@FunctionalInterface
public interface ConnectionOpener {

  /** @param user the authenticated user, or null for an anonymous connection */
  ActorRef<ToConnection> open(String connectionId, AuthenticatedUser user, Socket socket);
}
