package io.switchboard.protocol;

/**
 * The body of every error answer of the internal API: a human-readable {@code error} and a stable,
 * machine-readable {@code code} (e.g. {@code invalid_json}, {@code too_many_users}).
 */
public record ApiError(String error, String code) {}
