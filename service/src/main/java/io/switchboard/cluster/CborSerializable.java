package io.switchboard.cluster;

/**
 * Marker for every message that crosses nodes but the send path's few ({@link SendPathSerializable}).
 * Bound to Pekko's Jackson CBOR serializer in {@code switchboard-pekko.conf}; nothing in Switchboard
 * uses Java serialization.
 */
public interface CborSerializable {}
