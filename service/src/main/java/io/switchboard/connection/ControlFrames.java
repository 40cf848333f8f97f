package io.switchboard.connection;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.handler.DataType;
import io.switchboard.handler.InboundFrame;
import io.switchboard.protocol.ClientError;
import io.switchboard.protocol.control.ClientControl;
import io.switchboard.protocol.control.CommandError;
import io.switchboard.protocol.control.Refreshed;
import io.switchboard.protocol.control.Reply;
import java.util.Base64;

/**
 * The control frames of a connection's socket: which client frames are {@link ClientControl} frames
 * (a JSON object with the key {@value ClientControl#KEY}; anything else is the app's, even when it is
 * not JSON), and the frames that answer them. Stateless: a connection holds nothing for it.
 */
final class ControlFrames {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ControlFrames() {}

  /** The frame as a control frame, or null when it is for the app. */
  static ClientControl parse(InboundFrame frame) {
    String text = frame.text();
    if (text == null || !text.contains(ClientControl.KEY) || !text.stripLeading().startsWith("{")) {
      return null;
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return null; // not JSON: the app's data type decides what to do with it
    }
    if (node == null || !node.isObject() || !node.has(ClientControl.KEY)) {
      return null;
    }
    JsonNode given = node.get("id");
    JsonNode id = given != null && (given.isTextual() || given.isNumber()) ? given : null;
    String command = node.path(ClientControl.KEY).asText();
    return switch (command) {
      case "request" -> new ClientControl.Request(id, node.path("data"));
      case "refresh" -> new ClientControl.Refresh(id, node.path("token").asText(""));
      default -> new ClientControl.Unknown(id, command);
    };
  }

  /**
   * What an envelope's {@code data} is for the configured data type: JSON as JSON; for "string", a JSON
   * string's text (another value as its JSON text); for "binary", a base64 string's bytes.
   *
   * @throws IllegalArgumentException when binary data is not a base64 string (the message says so)
   */
  static InboundFrame requestData(JsonNode data, DataType type) {
    return switch (type) {
      case JSON -> InboundFrame.text(data.toString());
      case STRING -> InboundFrame.text(data.isTextual() ? data.asText() : data.toString());
      case BINARY -> {
        if (!data.isTextual()) {
          throw new IllegalArgumentException("binary data in a request envelope must be a base64 string");
        }
        try {
          yield InboundFrame.binary(Base64.getDecoder().decode(data.asText()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("binary data in a request envelope is not valid base64");
        }
      }
    };
  }

  /** An error for a client message: {@code {"error", "requestId"}}, or a reply to envelope {@code clientId}. */
  static OutboundMessage error(String error, String requestId, JsonNode clientId) {
    if (clientId != null) {
      return frame(Reply.error(clientId, error, requestId));
    }
    // A JSON value as the client sees it (in a v2 envelope its "data").
    return new OutboundMessage(OutboundMessage.Kind.JSON, frame(new ClientError(error, requestId)).text(), null);
  }

  /** The handler's answer to envelope {@code clientId} ({@code message} null: it answered nothing). */
  static OutboundMessage reply(JsonNode clientId, OutboundMessage message) {
    if (message == null) {
      return frame(Reply.data(clientId, null));
    }
    return frame(switch (message.kind()) {
      case JSON -> Reply.data(clientId, parse(message.text()));
      case TEXT -> Reply.data(clientId, JSON.getNodeFactory().textNode(message.text()));
      case BINARY -> Reply.binary(clientId, Base64.getEncoder().encodeToString(message.bytes()));
    });
  }

  /** A refresh moved the connection's expiry to {@code exp} (the new token's claim; null if none). */
  static OutboundMessage refreshed(Object exp) {
    return frame(new Refreshed(exp));
  }

  static OutboundMessage commandError(String command, String error) {
    return frame(new CommandError(command, error));
  }

  private static OutboundMessage frame(Object answer) {
    try {
      return OutboundMessage.text(JSON.writeValueAsString(answer));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a control answer does not serialize", e);
    }
  }

  /** JSON text this node made itself (an {@link OutboundMessage} of kind JSON), as a tree. */
  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an outbound JSON message is not JSON", e);
    }
  }
}
