package io.switchboard.handler;

import io.switchboard.auth.AuthenticatedUser;

/**
 * One message a client sent, as the handler gets it.
 *
 * @param connection the connection's id
 * @param data the message: a Jackson {@code JsonNode} (data type {@code json}, the default), a
 *     {@code String} ({@code string}) or a {@code byte[]} ({@code binary})
 * @param requestId unique, made by the node
 * @param user the authenticated user (id and the token's claims), null for an anonymous connection
 */
public record SocketRequest(String connection, Object data, String requestId, AuthenticatedUser user) {}
