package io.switchboard.cluster;

import io.switchboard.presence.SendPathSerializer;

/**
 * Marker for the few cross-node messages of every send-to-user, bound to {@code io.switchboard.presence.SendPathSerializer} in
 * {@code switchboard-pekko.conf}. Every other cross-node message is {@link CborSerializable}.
 */
public interface SendPathSerializable {}
