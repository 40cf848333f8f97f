package io.switchboard.presence;

import io.switchboard.CborSerializable;
import io.switchboard.protocol.PresenceEvent;

/** A presence event on its way from the deciding entity to every node's listeners and streams. */
public record PresenceChanged(PresenceEvent event) implements CborSerializable {}
