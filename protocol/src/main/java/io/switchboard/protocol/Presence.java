package io.switchboard.protocol;

import java.util.List;

/**
 * A user's presence: online when at least one connection is open, and also during the offline grace
 * after the last one closed ({@code inGrace} true, no connections).
 */
public record Presence(
    String userId, boolean online, boolean inGrace, List<ConnectionInfo> connections) {}
