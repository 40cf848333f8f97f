package io.switchboard.auth;

import java.util.Map;

/** A user whose token was verified: the {@code sub} claim as id, and all of the token's claims. */
public record AuthenticatedUser(String id, Map<String, Object> claims) {}
