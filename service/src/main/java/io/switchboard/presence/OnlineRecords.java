package io.switchboard.presence;

import java.util.List;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;

/**
 * The replicated record of which users are online and on which node their entity runs, kept in Pekko
 * Distributed Data (an LWW map per bucket, written with majority consistency). It outlives any one
 * node: a user's entity that starts anywhere reads it to learn that an earlier incarnation had
 * announced the user online, and when a node is removed the survivors find the users whose entity
 * died with it.
 *
 * <p>A value is {@code "<online event id> <entity node address> <grace start>"}; the grace start is the
 * epoch millisecond the user's last connection went (0: the user has connections), so that an entity
 * that moves during the offline grace continues the grace instead of starting it again. The last field
 * lists the user's connections as {@code <id>@<node host:port>}: the entity rewrites the record whenever
 * a connection joins or leaves, so a new incarnation knows whom to wait for (and skips those on nodes
 * that are gone).
 */
final class OnlineRecords {
  static final int BUCKETS = 64;

  /** One online user's record. */
  record Entry(String onlineEventId, String host, long graceSince, List<String> connections) {
    String encode() {
      return onlineEventId + " " + host + " " + graceSince + " "
          + (connections.isEmpty() ? "-" : String.join(",", connections));
    }

    static Entry decode(String value) {
      String[] parts = value.split(" ");
      long graceSince = parts.length > 2 ? Long.parseLong(parts[2]) : 0;
      List<String> connections =
          parts.length > 3 && !parts[3].equals("-") ? List.of(parts[3].split(",")) : List.of();
      return new Entry(parts[0], parts[1], graceSince, connections);
    }
  }

  private OnlineRecords() {}

  /** {@code <id>@<node>} for a record's connection list. */
  static String connection(String connectionId, String node) {
    return connectionId + "@" + node;
  }

  /** The node of a record's connection entry, or null when it names none. */
  static String nodeOf(String entry) {
    int at = entry.lastIndexOf('@');
    return at < 0 ? null : entry.substring(at + 1);
  }

  /** The connection id of a record's connection entry. */
  static String idOf(String entry) {
    int at = entry.lastIndexOf('@');
    return at < 0 ? entry : entry.substring(0, at);
  }

  static Key<LWWMap<String, String>> key(String userId) {
    return bucket(Math.floorMod(userId.hashCode(), BUCKETS));
  }

  static Key<LWWMap<String, String>> bucket(int index) {
    return LWWMapKey.create("presence-online-" + index);
  }
}
