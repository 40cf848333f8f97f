package io.switchboard.presence;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.sharding.typed.HashCodeMessageExtractor;

/**
 * The replicated record of which users are online and on which node their entity runs, kept in Pekko
 * Distributed Data (an LWW map per bucket, written with majority consistency). It outlives any one
 * node: a user's entity that starts anywhere reads it to learn that an earlier incarnation had
 * announced the user online, and when a node is removed the survivors find the users whose entity
 * died with it.
 *
 * <p>Buckets follow the sharding of the user entities: every bucket holds users of one shard only
 * ({@link #BUCKETS_PER_SHARD} buckets per shard). So only the node hosting a shard writes its buckets,
 * and once that node has read them from a majority after the shard came to it, its own replica is up
 * to date for them ({@link CaughtUpShards}).
 *
 * <p>A value is {@code "<online event id> <entity node address> <grace start>"}; the grace start is the
 * epoch millisecond the user's last connection went (0: the user has connections), so that an entity
 * that moves during the offline grace continues the grace instead of starting it again. The last field
 * lists the user's connections as {@code <id>@<node host:port>}: the entity rewrites the record whenever
 * a connection joins or leaves, so a new incarnation knows whom to wait for (and skips those on nodes
 * that are gone).
 */
final class OnlineRecords {
  /** Buckets per shard: each holds about 1/(shards × this) of the users online. */
  static final int BUCKETS_PER_SHARD = 8;

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

  /** The bucket of {@code userId}'s record, with {@code shards} shards of user entities. */
  static Key<LWWMap<String, String>> key(String userId, int shards) {
    String shardId = new HashCodeMessageExtractor<UserPresence.Command>(shards).shardId(userId);
    // Pekko's shard id is negative for Integer.MIN_VALUE, whose absolute value is itself: fold it in.
    int shard = Math.floorMod(Integer.parseInt(shardId), shards);
    // A second hash, so that a shard's users spread over its buckets.
    int mixed = Integer.rotateLeft(userId.hashCode() * 0x9E3779B9, 16);
    return bucket(shard, Math.floorMod(mixed, BUCKETS_PER_SHARD));
  }

  /** Every bucket there is with {@code shards} shards. */
  static List<Key<LWWMap<String, String>>> buckets(int shards) {
    List<Key<LWWMap<String, String>>> keys = new ArrayList<>(shards * BUCKETS_PER_SHARD);
    for (int shard = 0; shard < shards; shard++) {
      for (int sub = 0; sub < BUCKETS_PER_SHARD; sub++) {
        keys.add(bucket(shard, sub));
      }
    }
    return keys;
  }

  private static Key<LWWMap<String, String>> bucket(int shard, int sub) {
    return LWWMapKey.create("presence-online-" + shard + "-" + sub);
  }
}
