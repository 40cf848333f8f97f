package io.switchboard.protocol;

import java.util.List;

/** Answer of {@code POST /v1/messages}: one entry per distinct recipient, in request order, and the sum. */
public record MultiSendResponse(List<Delivery> results, int delivered) {}
