package io.switchboard.connection;

import io.switchboard.protocol.CloseCodes;
import java.util.function.IntConsumer;

/** The closes an edge decides on its own, the same on both edges, each counted by its code. */
enum EdgeClose {
  /** Nothing read from the client, pongs included, for the idle timeout. */
  IDLE(CloseCodes.GOING_AWAY, "idle timeout"),
  /** A client message over the size limit. */
  TOO_BIG(CloseCodes.MESSAGE_TOO_BIG, "message too big");

  private final int code;
  private final String reason;

  EdgeClose(int code, String reason) {
    this.code = code;
    this.reason = reason;
  }

  /** Counts this close in {@code closes} and closes {@code socket} with its code and reason. */
  void apply(Socket socket, IntConsumer closes) {
    closes.accept(code);
    socket.close(code, reason);
  }
}
