package io.switchboard;

/**
 * Marker for every message that crosses nodes. Bound to Pekko's Jackson CBOR serializer in
 * {@code reference.conf}; nothing in Switchboard uses Java serialization.
 */
public interface CborSerializable {}
