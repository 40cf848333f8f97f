package io.switchboard.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * Body of the POST a node makes to {@code HANDLER_URL} for each client message.
 *
 * @param dataType {@code json} ({@code data} is the parsed value), {@code string} ({@code data} is the
 *     text) or {@code binary} ({@code data} is the bytes, base64)
 * @param user null for an anonymous connection
 */
public record ForwardedRequest(
    String connectionId, String requestId, User user, String dataType, JsonNode data) {

  /** The authenticated user: id and the token's claims as they were in the token. */
  public record User(String id, Map<String, Object> claims) {}
}
