package io.switchboard.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.handler.InboundFrame;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** How client messages are given to the handler ({@code HANDLER_DATA_TYPE}). */
public enum DataType {
  /** Parsed JSON (a {@code JsonNode}); a message that is not JSON text is answered with an error. */
  JSON,
  /** The raw text (a {@code String}); a binary message is answered with an error. */
  STRING,
  /** The raw bytes (a {@code byte[]}); text messages as their UTF-8 bytes. */
  BINARY;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The thrown exception's message is what the client is told. */
  public Object decode(InboundFrame frame) throws InvalidMessageException {
    switch (this) {
      case JSON:
        if (frame.isBinary()) {
          throw new InvalidMessageException("expected a JSON text message, got binary");
        }
        try {
          JsonNode value = MAPPER.readTree(frame.text());
          if (value == null || value.isMissingNode()) {
            throw new InvalidMessageException("expected JSON, got an empty message");
          }
          return value;
        } catch (IOException e) {
          throw new InvalidMessageException("invalid JSON");
        }
      case STRING:
        if (frame.isBinary()) {
          throw new InvalidMessageException("expected a text message, got binary");
        }
        return frame.text();
      default:
        return frame.isBinary() ? frame.bytes() : frame.text().getBytes(StandardCharsets.UTF_8);
    }
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** A client message that does not fit the configured data type. */
  public static final class InvalidMessageException extends Exception {
    public InvalidMessageException(String message) {
      super(message, null, false, false);
    }
  }
}
