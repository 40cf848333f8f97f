package io.switchboard.api;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * A request's path as the client wrote it ({@code Raw-Request-URI}, which the server adds with
 * {@code pekko.http.server.raw-request-uri-header}). Pekko decodes percent-escapes that are no UTF-8
 * into U+FFFD, so {@code /v1/users/%ff/...} would name the user "\uFFFD": only the raw form tells.
 */
final class RawPath {
  static final String HEADER = "Raw-Request-URI";

  private RawPath() {}

  /** Whether every percent-escape in the path of {@code rawUri} decodes as UTF-8. */
  static boolean isUtf8(String rawUri) {
    int query = rawUri.indexOf('?');
    String path = query < 0 ? rawUri : rawUri.substring(0, query);
    if (path.indexOf('%') < 0) {
      return true;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(path.length());
    StringBuilder plain = new StringBuilder();
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%' && isHex(path, i + 1) && isHex(path, i + 2)) {
        bytes.writeBytes(plain.toString().getBytes(StandardCharsets.UTF_8));
        plain.setLength(0);
        bytes.write(HexFormat.fromHexDigits(path, i + 1, i + 3));
        i += 2;
      } else {
        plain.append(c);
      }
    }
    bytes.writeBytes(plain.toString().getBytes(StandardCharsets.UTF_8));
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private static boolean isHex(String s, int i) {
    return i < s.length() && Character.digit(s.charAt(i), 16) >= 0;
  }
}
