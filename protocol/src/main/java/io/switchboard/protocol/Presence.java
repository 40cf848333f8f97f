package io.switchboard.protocol;

import java.util.List;

/** A user's presence: online exactly when at least one connection is open. */
public record Presence(String userId, boolean online, List<ConnectionInfo> connections) {}
