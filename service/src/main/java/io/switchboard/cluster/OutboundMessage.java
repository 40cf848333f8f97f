package io.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.presence.SendPathSerializer;
import java.nio.charset.StandardCharsets;

/**
 * A message on its way to clients, as the model product sends it: a JSON value as a JSON text frame (the
 * value itself, no envelope), a string as a text frame, bytes as a binary frame. Exactly one of
 * {@code text} (JSON and TEXT) and {@code bytes} (BINARY) is set. Between nodes it travels inside the
 * send path's messages, in {@code io.switchboard.presence.SendPathSerializer}'s format.
 */
public record OutboundMessage(Kind kind, String text, byte[] bytes) {

  public enum Kind {
    JSON,
    TEXT,
    BINARY
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  public static OutboundMessage json(JsonNode value) {
    return new OutboundMessage(Kind.JSON, value.toString(), null);
  }

  public static OutboundMessage text(String text) {
    return new OutboundMessage(Kind.TEXT, text, null);
  }

  public static OutboundMessage binary(byte[] bytes) {
    return new OutboundMessage(Kind.BINARY, null, bytes.clone());
  }

  /**
   * The model product's {@code send(message)}: a {@code String} goes out as text, a {@code byte[]} as
   * binary, anything else (a map, a record, a {@link JsonNode}) as JSON.
   */
  public static OutboundMessage of(Object message) {
    if (message instanceof OutboundMessage m) {
      return m;
    }
    if (message instanceof String s) {
      return text(s);
    }
    if (message instanceof byte[] b) {
      return binary(b);
    }
    return json(JSON.valueToTree(message));
  }

  /** Size on the wire, for buffer accounting. */
  public int size() {
    return bytes != null ? bytes.length : text.getBytes(StandardCharsets.UTF_8).length;
  }
}
