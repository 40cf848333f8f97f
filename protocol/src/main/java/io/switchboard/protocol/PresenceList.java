package io.switchboard.protocol;

import java.util.List;

/** Answer of {@code POST /v1/presence}: one entry per distinct user, in request order. */
public record PresenceList(List<Presence> users) {}
