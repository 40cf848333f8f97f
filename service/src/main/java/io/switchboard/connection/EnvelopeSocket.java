package io.switchboard.connection;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.switchboard.cluster.OutboundMessage;
import java.util.Base64;

/**
 * A protocol v2 connection's socket: every server frame goes out as a JSON text frame, the envelope
 * {@code {"$switchboard": "message", "data": <json>}}, with {@code "text": "..."} for a string and
 * {@code "binary": "<base64>"} for bytes in place of {@code "data"}. Switchboard's own answers
 * ({@code {"$switchboard": "reply", ...}}) are envelopes already and go out as they are. Plain
 * connections keep the raw frames.
 */
final class EnvelopeSocket implements Socket {
  private static final String PREFIX = "{\"$switchboard\":\"message\",";

  private final Socket socket;

  EnvelopeSocket(Socket socket) {
    this.socket = socket;
  }

  /** The envelope of {@code message}, as the text frame it goes out in. */
  static OutboundMessage envelope(OutboundMessage message) {
    StringBuilder frame = new StringBuilder(PREFIX.length() + 16 + message.size() * 4 / 3);
    frame.append(PREFIX);
    switch (message.kind()) {
      case JSON -> frame.append("\"data\":").append(message.text());
      case TEXT -> frame.append("\"text\":\"")
          .append(JsonStringEncoder.getInstance().quoteAsString(message.text())).append('"');
      case BINARY -> frame.append("\"binary\":\"")
          .append(Base64.getEncoder().encodeToString(message.bytes())).append('"');
    }
    return OutboundMessage.text(frame.append('}').toString());
  }

  @Override
  public boolean send(OutboundMessage message) {
    return socket.send(envelope(message));
  }

  @Override
  public boolean sendControl(OutboundMessage message) {
    return socket.send(message);
  }

  @Override
  public void close(int code, String reason) {
    socket.close(code, reason);
  }

  @Override
  public void pauseReading() {
    socket.pauseReading();
  }

  @Override
  public void resumeReading() {
    socket.resumeReading();
  }
}
