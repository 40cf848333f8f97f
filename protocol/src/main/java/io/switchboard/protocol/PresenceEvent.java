package io.switchboard.protocol;

/**
 * A user came online (first connection opened) or went offline (last connection gone).
 *
 * <p>{@code seq} is per user and strictly increasing; {@code id} is unique per event, so a consumer that
 * sees the same id twice has seen a retry. {@code timestamp} is epoch milliseconds at the deciding node.
 */
public record PresenceEvent(String id, String userId, Kind kind, long seq, long timestamp) {

  public enum Kind {
    online,
    offline
  }
}
