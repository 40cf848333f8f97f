package io.switchboard.protocol.control;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * A control frame that changed nothing: {@code {"$switchboard": command, "error": why}}, with the
 * command the client sent (an unknown one, a refresh with an invalid token, a request without an id).
 */
@JsonPropertyOrder({ClientControl.KEY, "error"})
public record CommandError(@JsonProperty(ClientControl.KEY) String command, String error) {}
