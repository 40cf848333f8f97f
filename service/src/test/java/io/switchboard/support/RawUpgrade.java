package io.switchboard.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * Sends one HTTP request over a raw (TLS) socket and reads the whole answer, for upgrade requests the
 * JDK's clients will not send or whose refusals they hide.
 */
public final class RawUpgrade {

  public record Answer(int status, String headers, String body, byte[] bodyBytes) {}

  private RawUpgrade() {}

  /** A WebSocket upgrade request for {@code target} with {@code headers} added. */
  public static Answer upgrade(SSLContext tls, int port, String target, Map<String, String> headers)
      throws IOException {
    StringBuilder request = new StringBuilder();
    request.append("GET ").append(target).append(" HTTP/1.1\r\n");
    request.append("Host: localhost:").append(port).append("\r\n");
    request.append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
    request.append("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
    request.append("\r\n");
    return exchange(tls, port, request.toString());
  }

  /** Sends {@code request} as is and reads until the server closes. */
  public static Answer exchange(SSLContext tls, int port, String request) throws IOException {
    try (Socket socket =
        tls == null
            ? new Socket("127.0.0.1", port)
            : tls.getSocketFactory().createSocket("localhost", port)) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      byte[] chunk = new byte[4096];
      int n;
      while ((n = in.read(chunk)) > 0) {
        buffer.write(chunk, 0, n);
      }
      byte[] all = buffer.toByteArray();
      // Headers are ASCII: split on the first blank line, keeping the body's bytes as they came.
      String latin = new String(all, StandardCharsets.ISO_8859_1);
      int split = latin.indexOf("\r\n\r\n");
      String head = split < 0 ? latin : latin.substring(0, split);
      byte[] body = split < 0 ? new byte[0] : java.util.Arrays.copyOfRange(all, split + 4, all.length);
      int status = Integer.parseInt(head.substring(9, 12));
      return new Answer(status, head, new String(body, StandardCharsets.UTF_8), body);
    }
  }
}
