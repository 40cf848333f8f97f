package io.switchboard.protocol;

import java.util.List;

/** Body of {@code POST /v1/presence}: up to {@link Limits#MAX_USERS_PER_REQUEST} user ids. */
public record PresenceQuery(List<String> users) {}
