package io.switchboard.protocol;

/** Answer of {@code DELETE /v1/users/{userId}/connections}: how many connections were told to close. */
public record ConnectionsClosed(String userId, int closed) {}
