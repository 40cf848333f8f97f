package io.switchboard.api;

import static io.switchboard.api.JsonResponses.JSON;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.protocol.Limits;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The API's request bodies, read so that each bad part gets its own reason: JSON that does not parse
 * (with where), a field of the wrong type or an unknown one, a bad user id at its index. The route
 * bodies ({@code POST /v1/messages}, {@code POST /v1/presence}) are read field by field, not bound to
 * classes, so no reason names a Java type. A JSON {@code null} counts as an absent field.
 */
final class RequestBodies {
  /** What a body got wrong: the code, the field at fault (null when not one field) and why. */
  static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;

    final ErrorCode code;
    final String field;

    Invalid(ErrorCode code, String field, String message) {
      super(message, null, false, false);
      this.code = code;
      this.field = field;
    }
  }

  /** A send to several users: distinct or not, as given ({@code to}), and the message. */
  record MultiSend(List<String> to, OutboundMessage message) {}

  private static final List<String> SEND_FIELDS = List.of("to", "message", "text", "binary");
  private static final List<String> PRESENCE_FIELDS = List.of("users");

  // A message is forwarded as it is: trailing garbage is refused, duplicate keys are the sender's.
  private static final ObjectReader MESSAGE =
      JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  // In a route's body a repeated field ("to" twice) has no one meaning.
  private static final ObjectReader ROUTE_BODY =
      MESSAGE.with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);

  private RequestBodies() {}

  /** A JSON message to send as it is: any JSON value. */
  static JsonNode message(byte[] body) throws Invalid {
    return parse(MESSAGE, body);
  }

  /** A {@code text/plain} message: its bytes must be UTF-8. */
  static String text(byte[] body) throws Invalid {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      throw new Invalid(ErrorCode.INVALID_MESSAGE, null, "a text/plain body must be UTF-8");
    }
  }

  /** The body of {@code POST /v1/messages}. */
  static MultiSend multiSend(byte[] body) throws Invalid {
    JsonNode object = object(body, SEND_FIELDS);
    List<String> to = userIds(object, "to", ErrorCode.INVALID_RECIPIENTS);
    JsonNode message = present(object, "message");
    JsonNode text = present(object, "text");
    JsonNode binary = present(object, "binary");
    int forms = (message != null ? 1 : 0) + (text != null ? 1 : 0) + (binary != null ? 1 : 0);
    if (forms != 1) {
      throw new Invalid(
          ErrorCode.INVALID_MESSAGE,
          null,
          "exactly one of message (JSON), text or binary (base64) must be given, got "
              + (forms == 0 ? "none" : forms));
    }
    if (message != null) {
      return new MultiSend(to, OutboundMessage.json(message));
    }
    if (text != null) {
      return new MultiSend(to, OutboundMessage.text(string(text, "text")));
    }
    try {
      return new MultiSend(
          to, OutboundMessage.binary(Base64.getDecoder().decode(string(binary, "binary"))));
    } catch (IllegalArgumentException e) {
      throw new Invalid(ErrorCode.INVALID_MESSAGE, "binary", "binary is not valid base64");
    }
  }

  /** The user ids of {@code POST /v1/presence}'s body, as given. */
  static List<String> presenceQuery(byte[] body) throws Invalid {
    return userIds(object(body, PRESENCE_FIELDS), "users", ErrorCode.INVALID_USERS);
  }

  private static JsonNode object(byte[] body, List<String> fields) throws Invalid {
    JsonNode value = parse(ROUTE_BODY, body);
    if (!value.isObject()) {
      throw new Invalid(
          ErrorCode.INVALID_JSON, null, "body must be a JSON object, got " + type(value));
    }
    for (Iterator<String> names = value.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!fields.contains(name)) {
        throw new Invalid(
            ErrorCode.INVALID_JSON,
            name,
            "unknown field \"" + name + "\"; this route takes " + String.join(", ", fields));
      }
    }
    return value;
  }

  private static JsonNode parse(ObjectReader reader, byte[] body) throws Invalid {
    JsonNode value;
    try {
      value = reader.readTree(body);
    } catch (MismatchedInputException e) {
      // The one binding error a tree read has: the databind's wording names its own classes.
      throw new Invalid(ErrorCode.INVALID_JSON, null, notJson(e, "more follows the JSON value"));
    } catch (JsonProcessingException e) {
      throw new Invalid(ErrorCode.INVALID_JSON, null, notJson(e, e.getOriginalMessage()));
    } catch (IOException e) {
      throw new Invalid(ErrorCode.INVALID_JSON, null, "body is not valid JSON");
    }
    if (value == null || value.isMissingNode()) {
      throw new Invalid(ErrorCode.INVALID_JSON, null, "body is empty; it must be JSON");
    }
    return value;
  }

  private static String notJson(JsonProcessingException e, String why) {
    return "body is not valid JSON (line " + e.getLocation().getLineNr() + ", column "
        + e.getLocation().getColumnNr() + "): " + why;
  }

  private static List<String> userIds(JsonNode object, String field, ErrorCode code)
      throws Invalid {
    JsonNode ids = present(object, field);
    if (ids == null || !ids.isArray() || ids.isEmpty()) {
      throw new Invalid(
          code,
          field,
          field + " must be an array of 1 to " + Limits.MAX_USERS_PER_REQUEST + " user ids, got "
              + (ids == null ? "none" : ids.isArray() ? "an empty array" : type(ids)));
    }
    if (ids.size() > Limits.MAX_USERS_PER_REQUEST) {
      throw new Invalid(
          code,
          field,
          "at most " + Limits.MAX_USERS_PER_REQUEST + " users per request, got " + ids.size());
    }
    List<String> result = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      String at = field + "[" + i + "]";
      JsonNode id = ids.get(i);
      if (!id.isTextual()) {
        throw new Invalid(code, at, at + " must be a string (a user id), got " + type(id));
      }
      Optional<String> problem = Limits.userIdProblem(id.textValue());
      if (problem.isPresent()) {
        throw new Invalid(code, at, at + ": " + problem.get());
      }
      result.add(id.textValue());
    }
    return result;
  }

  private static String string(JsonNode value, String field) throws Invalid {
    if (!value.isTextual()) {
      throw new Invalid(
          ErrorCode.INVALID_MESSAGE, field, field + " must be a string, got " + type(value));
    }
    return value.textValue();
  }

  /** The field's value, or null when it is absent or JSON null. */
  private static JsonNode present(JsonNode object, String field) {
    JsonNode value = object.get(field);
    return value == null || value.isNull() ? null : value;
  }

  private static String type(JsonNode value) {
    String type = value.getNodeType().name().toLowerCase(Locale.ROOT);
    return value.isNull() ? "null" : (type.startsWith("a") || type.startsWith("o") ? "an " : "a ")
        + type;
  }
}
