package io.switchboard.presence;

import io.switchboard.protocol.PresenceEvent;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's fan-out of presence events to its in-process listeners and event streams. Every node
 * receives every event of the cluster (see {@link PresenceEvents}); a listener that throws is
 * logged and keeps its place.
 */
public final class PresenceEventHub {
  private static final Logger log = LoggerFactory.getLogger(PresenceEventHub.class);
  private final CopyOnWriteArrayList<PresenceListener> listeners = new CopyOnWriteArrayList<>();

  public PresenceListener.Registration add(PresenceListener listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  void publish(PresenceEvent event) {
    for (PresenceListener listener : listeners) {
      try {
        listener.onEvent(event);
      } catch (RuntimeException e) {
        log.warn("presence listener {} failed on event {}", listener, event.id(), e);
      }
    }
  }
}
