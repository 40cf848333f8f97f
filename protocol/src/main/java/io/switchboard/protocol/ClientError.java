package io.switchboard.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What a client gets back as a JSON text frame when its message could not be handled: {@code error}
 * says why; {@code requestId} names the request when there was one.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClientError(String error, String requestId) {}
