package io.switchboard.presence;

import io.switchboard.protocol.PresenceEvent;

/**
 * In-process listener for presence events of the whole cluster. Called on an actor thread, one event at
 * a time and in the order this node received them: return quickly, never block.
 */
@FunctionalInterface
public interface PresenceListener {

  void onEvent(PresenceEvent event);

  /** Handle returned when a listener is added; closing it removes the listener. */
  interface Registration extends AutoCloseable {
    @Override
    void close();
  }
}
