package io.switchboard.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * A WebSocket client that writes whatever bytes it is told: for sending what no well-behaved client
 * library would (bad UTF-8, reserved opcodes, unmasked or truncated frames, floods).
 */
public final class RawSocket implements AutoCloseable {
  /** The TCP socket under {@code socket}'s TLS. */
  private final Socket tcp;
  private final Socket socket;
  private final OutputStream out;
  private final InputStream in;

  private RawSocket(Socket tcp, Socket socket) throws IOException {
    this.tcp = tcp;
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.in = socket.getInputStream();
  }

  /** Connects and sends {@code request} as is (possibly partial), without reading anything. */
  public static RawSocket connect(SSLContext tls, int port) throws IOException {
    Socket tcp = new Socket("localhost", port);
    Socket socket = tls.getSocketFactory().createSocket(tcp, "localhost", port, true);
    socket.setSoTimeout(30_000);
    return new RawSocket(tcp, socket);
  }

  /** Connects and completes a WebSocket upgrade with {@code headers}; fails unless answered 101. */
  public static RawSocket upgrade(SSLContext tls, int port, Map<String, String> headers) throws IOException {
    RawSocket raw = connect(tls, port);
    StringBuilder request = new StringBuilder("GET /socket HTTP/1.1\r\nHost: localhost\r\n")
        .append("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
        .append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
    raw.write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = raw.in.read();
      if (b < 0) {
        throw new IOException("closed during the handshake: " + head);
      }
      head.write(b);
    }
    if (!head.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 101")) {
      throw new IOException("upgrade refused: " + head);
    }
    return raw;
  }

  public void write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** A frame with the given first byte (FIN + opcode), masked as a client must unless told not to. */
  public void frame(int finAndOpcode, byte[] payload, boolean masked) throws IOException {
    write(frameBytes(finAndOpcode, payload, masked));
  }

  /** The bytes of the frame {@link #frame} sends. */
  public static byte[] frameBytes(int finAndOpcode, byte[] payload, boolean masked) {
    ByteArrayOutputStream frame = new ByteArrayOutputStream();
    frame.write(finAndOpcode);
    int maskBit = masked ? 0x80 : 0;
    if (payload.length < 126) {
      frame.write(maskBit | payload.length);
    } else if (payload.length < 65536) {
      frame.write(maskBit | 126);
      frame.write(payload.length >> 8);
      frame.write(payload.length & 0xff);
    } else {
      frame.write(maskBit | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        frame.write((int) ((long) payload.length >> shift) & 0xff);
      }
    }
    byte[] mask = {0x11, 0x22, 0x33, 0x44};
    if (masked) {
      frame.writeBytes(mask);
    }
    for (int i = 0; i < payload.length; i++) {
      frame.write(masked ? payload[i] ^ mask[i % 4] : payload[i]);
    }
    return frame.toByteArray();
  }

  /**
   * Reads server frames until a close frame (its code) or the end of the stream (-1: the node dropped
   * the connection without a close frame).
   */
  public int awaitClose() throws IOException {
    try {
      Frame frame;
      while ((frame = readFrame()) != null) {
        if (frame.opcode() == 0x8) {
          byte[] payload = frame.payload();
          return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
        }
      }
      return -1;
    } catch (java.net.SocketException e) {
      return -1; // reset by the node
    }
  }

  /**
   * Reads server frames until none comes for {@code quietMillis} (or the stream ends) and counts the
   * pongs among them.
   */
  public int countPongsUntilQuiet(int quietMillis) throws IOException {
    int timeout = socket.getSoTimeout();
    socket.setSoTimeout(quietMillis);
    int pongs = 0;
    try {
      Frame frame;
      while ((frame = readFrame()) != null) {
        if (frame.opcode() == 0xA) {
          pongs++;
        }
      }
      return pongs;
    } catch (SocketTimeoutException e) {
      return pongs;
    } finally {
      socket.setSoTimeout(timeout);
    }
  }

  /** A frame from the node (never masked): its opcode and payload. */
  private record Frame(int opcode, byte[] payload) {}

  /** The next frame from the node, or null at the end of the stream. */
  private Frame readFrame() throws IOException {
    int first = in.read();
    if (first < 0) {
      return null;
    }
    int length = in.read() & 0x7f;
    if (length == 126) {
      length = (in.read() << 8) | in.read();
    } else if (length == 127) {
      long big = 0;
      for (int i = 0; i < 8; i++) {
        big = (big << 8) | in.read();
      }
      length = (int) big;
    }
    return new Frame(first & 0x0f, in.readNBytes(length));
  }

  /** True when the node closed the connection within the socket's read timeout. */
  public boolean closedByNode() throws IOException {
    try {
      while (in.read() >= 0) {
        // skip anything the node still says
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (java.net.SocketException e) {
      return true;
    }
  }

  /**
   * Closes the TCP socket at once, without TLS's goodbye: a thread blocked writing to a node that
   * stopped reading fails there, where {@link #close} would wait for it.
   */
  public void abort() throws IOException {
    tcp.close();
  }

  @Override
  public void close() throws IOException {
    if (tcp.isClosed()) {
      return;
    }
    socket.close();
  }
}
