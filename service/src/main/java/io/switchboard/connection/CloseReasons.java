package io.switchboard.connection;

import java.nio.charset.StandardCharsets;

/** Close reasons as RFC 6455 allows them on the wire. */
final class CloseReasons {
  /** The close reason fits in a control frame's 125 bytes, after the 2-byte code. */
  private static final int MAX_REASON_BYTES = 123;

  private CloseReasons() {}

  /** {@code reason} cut to at most 123 bytes of UTF-8, never in the middle of a character. */
  static String truncate(String reason) {
    byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= MAX_REASON_BYTES) {
      return reason;
    }
    String cut = new String(bytes, 0, MAX_REASON_BYTES, StandardCharsets.UTF_8);
    // A multi-byte character cut in half decodes to U+FFFD (3 bytes); drop it.
    while (cut.getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES || cut.endsWith("\uFFFD")) {
      cut = cut.substring(0, cut.length() - 1);
    }
    return cut;
  }
}
