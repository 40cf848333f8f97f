package io.switchboard.protocol.control;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A control frame a client sent: a JSON object with the key {@value #KEY}, whose value names the
 * command. {@code id} is the client's id for the frame when it gave one that is a string or a number,
 * else null (a rate-limit error names it too, whatever the command).
 */
public sealed interface ClientControl {

  /** The key that makes a JSON object a control frame rather than a message for the app. */
  String KEY = "$switchboard";

  JsonNode id();

  /**
   * {@code {"$switchboard": "request", "id": ..., "data": ...}}: a message for the app whose answer comes
   * back as a {@link Reply} with the same id. {@code data} is the frame's {@code data} as given (a
   * missing node when absent).
   */
  record Request(JsonNode id, JsonNode data) implements ClientControl {}

  /** {@code {"$switchboard": "refresh", "token": JWT}}: a fresh token for the connection ("" if none). */
  record Refresh(JsonNode id, String token) implements ClientControl {}

  /** Any other command: answered with a {@link CommandError}. */
  record Unknown(JsonNode id, String command) implements ClientControl {}
}
