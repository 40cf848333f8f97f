package io.switchboard.protocol;

/** How many of a user's connections a message was handed to; 0 when the user is offline. */
public record Delivery(String userId, int delivered) {}
