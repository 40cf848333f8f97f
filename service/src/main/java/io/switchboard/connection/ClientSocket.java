package io.switchboard.connection;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.cluster.OutboundMessage;
import org.slf4j.Logger;

/** The client's socket as the units of a {@link ConnectionActor} use it, through the actor. */
interface ClientSocket {

  /** Sends a frame to the client, counted; false when its outgoing buffer is full. */
  boolean send(OutboundMessage message);

  /** Sends a {@code {"$switchboard": ...}} answer, counted; never wrapped in a v2 envelope. */
  boolean sendControl(OutboundMessage message);

  /**
   * An error for a client message: a plain error frame (a message, as the handler's answers are), or
   * the reply to request envelope {@code clientId}.
   */
  default boolean sendError(String error, String requestId, JsonNode clientId) {
    OutboundMessage frame = ControlFrames.error(error, requestId, clientId);
    return clientId == null ? send(frame) : sendControl(frame);
  }

  /** Closes the socket with {@code code} (counted and logged); the caller then stops the actor. */
  void close(int code, String reason);

  /**
   * The actor's log (named for {@link ConnectionActor}, with the connection's id and user in its MDC):
   * asked for through the actor, because Pekko names an actor's logger after the class that first asks.
   */
  Logger log();
}
