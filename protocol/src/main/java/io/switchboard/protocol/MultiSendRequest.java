package io.switchboard.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * Body of {@code POST /v1/messages}: one message to up to {@link Limits#MAX_USERS_PER_REQUEST} users.
 * Exactly one of {@code message} (any JSON value, sent as a JSON text frame), {@code text} (sent as a
 * text frame) or {@code binary} (base64, sent as a binary frame) is set.
 */
public record MultiSendRequest(List<String> to, JsonNode message, String text, String binary) {}
