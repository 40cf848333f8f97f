package io.switchboard.presence;

import io.switchboard.presence.OnlineRecords.Entry;
import io.switchboard.presence.OnlineRecords.Item;
import io.switchboard.presence.OnlineRecords.RecordedConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The data of one replica of the {@link OnlineRecords}, without the messaging: the newest known
 * version of each user's record, and the rule by which versions merge. Its owner (the replica actor)
 * supplies the clock, so every operation here is a function of its arguments.
 *
 * <p>Invariants (proved by {@code OnlineRecordsProperties}):
 *
 * <ul>
 *   <li>of two versions of a user's record the higher (version, writer) wins, and so a removal, kept
 *       as a tombstone, wins over every older version; two versions with the same (version, writer)
 *       are decided by their contents, so that any two replicas that saw the same versions, in any
 *       order and any number of times, hold the same record ({@link #merge(Item, Item)} is
 *       commutative, associative and idempotent);
 *   <li>a tombstone is kept for {@link #TOMBSTONE_TTL} after its version, then purged; one that
 *       arrives already expired is not kept (where there is no version to win over);
 *   <li>each bucket's digest is the XOR of its items' digests, whatever the order they came in.
 * </ul>
 */
final class RecordReplica {

  /**
   * How long a removed record is remembered, so that an older copy of it is not merged back. Only a
   * replica cut off for longer could still hold one, and the split-brain resolver downs (and so
   * empties) a node cut off from the majority within seconds; if one did, the entity reading the
   * revived record would emit the user's offline again, with the same event id.
   */
  static final Duration TOMBSTONE_TTL = Duration.ofHours(1);

  /** Buckets compared by digest: about 1/1024 of the records each. */
  static final int BUCKETS = 1024;

  private static final Comparator<String> TEXT = Comparator.nullsFirst(Comparator.naturalOrder());

  /** The order of records that tie on (version, writer), so that merging them is commutative. */
  private static final Comparator<Entry> CONTENTS =
      Comparator.comparing(Entry::onlineEventId, TEXT)
          .thenComparing(Entry::host, TEXT)
          .thenComparingLong(Entry::graceSince)
          .thenComparing(Entry::connections, RecordReplica::compareConnections);

  /** Versions of the same user's record, from the one that loses to the one that wins. */
  static final Comparator<Item> ORDER =
      Comparator.comparingLong(Item::version)
          .thenComparing(Item::writer, TEXT)
          // On a tie a removal wins (null last).
          .thenComparing(Item::entry, Comparator.nullsLast(CONTENTS));

  private final String writer;
  private final List<Map<String, Item>> buckets = new ArrayList<>(BUCKETS);
  /** Per bucket, the XOR of its items' digests. */
  private final long[] digests = new long[BUCKETS];
  /** The writers' addresses, one string each (a few: the nodes this replica has heard from). */
  private final Map<String, String> writers = new HashMap<>();

  /** An empty replica whose own writes name {@code writer}. */
  RecordReplica(String writer) {
    this.writer = writer;
    for (int i = 0; i < BUCKETS; i++) {
      buckets.add(new HashMap<>());
    }
  }

  /** The winner of two versions of one user's record: the merge both replicas agree on. */
  static Item merge(Item a, Item b) {
    return ORDER.compare(a, b) >= 0 ? a : b;
  }

  /** Whether {@code item} is a tombstone older than {@link #TOMBSTONE_TTL} at {@code now}. */
  static boolean expired(Item item, long now) {
    return item.entry() == null && item.version() < now - TOMBSTONE_TTL.toMillis();
  }

  static int bucketOf(String userId) {
    return Math.floorMod(Integer.rotateLeft(userId.hashCode() * 0x9E3779B9, 16), BUCKETS);
  }

  /** The version of {@code userId}'s record here (a tombstone too), or null. */
  Item item(String userId) {
    return buckets.get(bucketOf(userId)).get(userId);
  }

  /** {@code userId}'s record, or null when it has none or it was removed. */
  Entry entry(String userId) {
    Item item = item(userId);
    return item == null ? null : item.entry();
  }

  /**
   * Applies a local write of {@code entry} ({@code null}: a removal) at {@code now}, with a version
   * above the one here ({@code max(now, last + 1)}); returns the item, to replicate.
   */
  Item write(String userId, Entry entry, long now) {
    Item current = item(userId);
    long version = Math.max(now, current == null ? 0 : current.version() + 1);
    Item item = new Item(userId, version, writer, entry);
    merge(item, now);
    return item;
  }

  /**
   * Keeps {@code item} if it wins over the version here; an expired tombstone is not kept where there
   * is none.
   */
  void merge(Item item, long now) {
    int bucket = bucketOf(item.userId());
    Item current = buckets.get(bucket).get(item.userId());
    if (current == null ? expired(item, now) : merge(current, item) == current) {
      return;
    }
    String name = writers.computeIfAbsent(item.writer(), w -> w);
    if (name != item.writer()) {
      // Every item received brings its own copy of the writer's address: keep one per writer.
      item = new Item(item.userId(), item.version(), name, item.entry());
    }
    buckets.get(bucket).put(item.userId(), item);
    digests[bucket] ^= item.digest() ^ (current == null ? 0 : current.digest());
  }

  void mergeAll(Collection<Item> items, long now) {
    items.forEach(item -> merge(item, now));
  }

  /** A copy of every bucket's digest. */
  long[] digests() {
    return digests.clone();
  }

  /** Every item here, tombstones too. */
  List<Item> items() {
    List<Item> all = new ArrayList<>();
    buckets.forEach(bucket -> all.addAll(bucket.values()));
    return all;
  }

  /**
   * The items of the buckets whose digest is not {@code theirs}'s, stopping after the bucket that
   * brings them to {@code max} or more. {@code theirs} has {@link #BUCKETS} digests.
   */
  List<Item> differing(long[] theirs, int max) {
    List<Item> differing = new ArrayList<>();
    for (int i = 0; i < BUCKETS && differing.size() < max; i++) {
      if (theirs[i] != digests[i]) {
        differing.addAll(buckets.get(i).values());
      }
    }
    return differing;
  }

  /** The users whose record names their entity on {@code host}. */
  List<String> usersOnHost(String host) {
    List<String> users = new ArrayList<>();
    for (Map<String, Item> bucket : buckets) {
      for (Item item : bucket.values()) {
        if (item.entry() != null && item.entry().host().equals(host)) {
          users.add(item.userId());
        }
      }
    }
    return users;
  }

  /** Drops the tombstones that have expired at {@code now}. */
  void purgeTombstones(long now) {
    for (int i = 0; i < BUCKETS; i++) {
      var items = buckets.get(i).values().iterator();
      while (items.hasNext()) {
        Item item = items.next();
        if (expired(item, now)) {
          items.remove();
          digests[i] ^= item.digest();
        }
      }
    }
  }

  private static int compareConnections(List<RecordedConnection> a, List<RecordedConnection> b) {
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      int byId = TEXT.compare(a.get(i).id(), b.get(i).id());
      if (byId != 0) {
        return byId;
      }
      int byNode = TEXT.compare(a.get(i).node(), b.get(i).node());
      if (byNode != 0) {
        return byNode;
      }
    }
    return Integer.compare(a.size(), b.size());
  }
}
