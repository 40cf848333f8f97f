package io.switchboard.protocol.control;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

/**
 * The answer to a {@link ClientControl.Request}, with the client's {@code id}: {@code {"$switchboard":
 * "reply", "id", "data"}} (a JSON value or a string; {@code "data": null} when the handler answered
 * nothing), {@code {..., "binary": base64}} for bytes, or {@code {..., "error", "requestId"}}. Exactly one
 * of {@code data}, {@code binary} and {@code error} is set.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({ClientControl.KEY, "id", "data", "binary", "error", "requestId"})
public record Reply(JsonNode id, JsonNode data, String binary, String error, String requestId) {

  /** The handler's answer as a JSON value; null (it answered nothing) is sent as {@code "data": null}. */
  public static Reply data(JsonNode id, JsonNode data) {
    return new Reply(id, data == null ? NullNode.getInstance() : data, null, null, null);
  }

  /** The handler's answer as bytes, base64. */
  public static Reply binary(JsonNode id, String base64) {
    return new Reply(id, null, base64, null, null);
  }

  /** The request failed (the handler failed or timed out, the rate limit, undecodable data). */
  public static Reply error(JsonNode id, String error, String requestId) {
    return new Reply(id, null, null, error, requestId);
  }

  @JsonProperty(ClientControl.KEY)
  public String kind() {
    return "reply";
  }
}
