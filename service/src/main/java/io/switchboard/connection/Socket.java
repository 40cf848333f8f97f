package io.switchboard.connection;

import io.switchboard.cluster.OutboundMessage;

/**
 * The one thing a {@link ConnectionActor} knows of its transport. Implementations are thread-safe and
 * never block; the WebSocket library behind them can change without touching presence or routing.
 */
public interface Socket {

  /** Queues a message for the client; false when the socket is closed or its outgoing buffer is full. */
  boolean send(OutboundMessage message);

  /**
   * Queues a frame of Switchboard's own protocol (a {@code {"$switchboard": ...}} answer), which goes
   * out as it is on every protocol version; false as for {@link #send}.
   */
  default boolean sendControl(OutboundMessage message) {
    return send(message);
  }

  /** Sends a close frame with {@code code} and {@code reason}, then closes the socket. Idempotent. */
  void close(int code, String reason);

  /** Stops reading from the client (backpressure: TCP pushes back on a client that keeps sending). */
  void pauseReading();

  /** Reads from the client again. */
  void resumeReading();
}
