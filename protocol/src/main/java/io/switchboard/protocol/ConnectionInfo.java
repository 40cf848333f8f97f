package io.switchboard.protocol;

/** One open connection of a user: its id, the node that holds its socket, and when it opened (ISO-8601). */
public record ConnectionInfo(String id, String node, String openedAt) {}
