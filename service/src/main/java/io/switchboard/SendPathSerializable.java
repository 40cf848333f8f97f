package io.switchboard;

/**
 * Marker for the few cross-node messages of every send-to-user, bound to {@link SendPathSerializer} in
 * {@code switchboard-pekko.conf}. Every other cross-node message is {@link CborSerializable}.
 */
public interface SendPathSerializable {}
