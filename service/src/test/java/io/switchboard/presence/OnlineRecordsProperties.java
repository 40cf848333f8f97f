package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.presence.OnlineRecords.Entry;
import io.switchboard.presence.OnlineRecords.Item;
import io.switchboard.presence.OnlineRecords.Items;
import io.switchboard.presence.OnlineRecords.RecordedConnection;
import io.switchboard.support.TestKitCluster;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;

/**
 * The merge laws of the online records' replicas ({@link RecordReplica}): merging versions of a
 * user's record is commutative, associative and idempotent, a tombstone wins over an older record and
 * a newer record over an older tombstone, and replicas given the same versions, in any order and any
 * number of times, end in the same state, digests included; and the versions cross nodes as Jackson
 * CBOR and come back equal. The generators draw from a few versions, writers and contents, so that
 * versions tie on (version, writer) often.
 */
class OnlineRecordsProperties {
  /** The clock of every replica here: all generated tombstones are well within their lifetime. */
  private static final long NOW = 1_800_000_000_000L;
  private static final long TTL = RecordReplica.TOMBSTONE_TTL.toMillis();

  /** A node-local system with the shipped serialization bindings (it opens no socket). */
  private static ActorTestKit testKit;
  private static Serialization serialization;

  @BeforeContainer
  static void system() {
    testKit = ActorTestKit.create("Wire", TestKitCluster.node("pekko.actor.provider = local"));
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
  }

  @AfterContainer
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static Arbitrary<Entry> entries() {
    Arbitrary<RecordedConnection> connection =
        Combinators.combine(Arbitraries.of("c1", "c2"), Arbitraries.of("n1:1", "n2:1"))
            .as(RecordedConnection::new);
    return Combinators.combine(
            Arbitraries.of("event-1", "event-2"),
            Arbitraries.of("pekko://S@h1:1", "pekko://S@h2:1"),
            Arbitraries.of(0L, 17L),
            connection.list().ofMaxSize(2))
        .as(Entry::new);
  }

  /** A record or (one in three) a tombstone. */
  private static Arbitrary<Entry> entriesOrRemovals() {
    return entries().injectNull(1.0 / 3);
  }

  private static Arbitrary<Item> itemsOf(Arbitrary<String> users) {
    return Combinators.combine(
            users,
            Arbitraries.longs().between(NOW - 3, NOW + 3),
            Arbitraries.of("pekko://S@h1:1", "pekko://S@h2:1"),
            entriesOrRemovals())
        .as(Item::new);
  }

  /** Versions of one user's record. */
  @Provide
  Arbitrary<Item> versions() {
    return itemsOf(Arbitraries.just("alice"));
  }

  /** Versions of a few users' records (some in the same bucket, most not). */
  @Provide
  Arbitrary<List<Item>> items() {
    return itemsOf(Arbitraries.of("alice", "bob", "carol", "dave")).list().ofMaxSize(12);
  }

  @Property(tries = 1000)
  void mergingTwoVersionsIsCommutative(@ForAll("versions") Item a, @ForAll("versions") Item b) {
    assertEquals(RecordReplica.merge(a, b), RecordReplica.merge(b, a));
  }

  @Property(tries = 1000)
  void mergingTwoVersionsIsAssociative(
      @ForAll("versions") Item a, @ForAll("versions") Item b, @ForAll("versions") Item c) {
    assertEquals(
        RecordReplica.merge(RecordReplica.merge(a, b), c),
        RecordReplica.merge(a, RecordReplica.merge(b, c)));
  }

  @Property(tries = 200)
  void mergingAVersionWithItselfIsThatVersion(@ForAll("versions") Item a) {
    assertSame(a, RecordReplica.merge(a, a));
  }

  @Property(tries = 1000)
  void theMergeIsOneOfTheTwoAndBeatsTheOther(
      @ForAll("versions") Item a, @ForAll("versions") Item b) {
    Item merged = RecordReplica.merge(a, b);
    assertTrue(merged == a || merged == b);
    assertTrue(RecordReplica.ORDER.compare(merged, a) >= 0);
    assertTrue(RecordReplica.ORDER.compare(merged, b) >= 0);
  }

  @Property(tries = 1000)
  void aTombstoneWinsOverAnOlderRecord(
      @ForAll("versions") Item record, @ForAll("versions") Item later) {
    Assume.that(record.entry() != null && olderVersion(record, later));
    Item tombstone = new Item(later.userId(), later.version(), later.writer(), null);
    assertSame(tombstone, RecordReplica.merge(record, tombstone));
    assertSame(tombstone, RecordReplica.merge(tombstone, record));
    RecordReplica replica = replicaOf(List.of(tombstone, record));
    assertNull(replica.entry(record.userId()), "the older record came back");
  }

  @Property(tries = 1000)
  void aNewerRecordWinsOverAnOlderTombstone(
      @ForAll("versions") Item removed, @ForAll("versions") Item record) {
    Assume.that(record.entry() != null && olderVersion(removed, record));
    Item tombstone = new Item(removed.userId(), removed.version(), removed.writer(), null);
    assertSame(record, RecordReplica.merge(record, tombstone));
    assertSame(record, RecordReplica.merge(tombstone, record));
    assertEquals(record.entry(), replicaOf(List.of(record, tombstone)).entry(record.userId()));
  }

  /** A replica holds, per user, the merge of every version it was given, in whatever order. */
  @Property(tries = 500)
  void aReplicaHoldsTheMergeOfEveryVersionItWasGivenInAnyOrder(
      @ForAll("items") List<Item> items, @ForAll Random random) {
    Map<String, Item> expected = new LinkedHashMap<>();
    items.forEach(item -> expected.merge(item.userId(), item, RecordReplica::merge));

    List<Item> shuffled = new ArrayList<>(items);
    shuffled.addAll(items.subList(0, items.size() / 2));
    Collections.shuffle(shuffled, random);
    RecordReplica replica = replicaOf(shuffled);

    assertEquals(new HashSet<>(expected.values()), Set.copyOf(replica.items()));
    assertSameState(replicaOf(items), replica);
  }

  @Property(tries = 500)
  void mergingReplicasIsCommutative(@ForAll("items") List<Item> a, @ForAll("items") List<Item> b) {
    assertSameState(join(replicaOf(a), replicaOf(b)), join(replicaOf(b), replicaOf(a)));
  }

  @Property(tries = 300)
  void mergingReplicasIsAssociative(
      @ForAll("items") List<Item> a, @ForAll("items") List<Item> b, @ForAll("items") List<Item> c) {
    assertSameState(
        join(join(replicaOf(a), replicaOf(b)), replicaOf(c)),
        join(replicaOf(a), join(replicaOf(b), replicaOf(c))));
  }

  @Property(tries = 300)
  void mergingAReplicaIntoItselfChangesNothing(@ForAll("items") List<Item> a) {
    RecordReplica replica = replicaOf(a);
    RecordReplica again = replicaOf(a);
    again.mergeAll(again.items(), NOW);
    assertSameState(replica, again);
  }

  /** After merging each other's differing buckets, two replicas hold the same. */
  @Property(tries = 300)
  void replicasThatSwapTheirDifferingBucketsAgree(
      @ForAll("items") List<Item> a, @ForAll("items") List<Item> b) {
    RecordReplica first = replicaOf(a);
    RecordReplica second = replicaOf(b);
    List<Item> toSecond = first.differing(second.digests(), Integer.MAX_VALUE);
    List<Item> toFirst = second.differing(first.digests(), Integer.MAX_VALUE);
    second.mergeAll(toSecond, NOW);
    first.mergeAll(toFirst, NOW);
    assertSameState(first, second);
    assertEquals(List.of(), first.differing(second.digests(), Integer.MAX_VALUE));
  }

  @Property(tries = 300)
  void aLocalWriteWinsOverEveryVersionHere(
      @ForAll("items") List<Item> items, @ForAll("versions") Item write, @ForAll Random random) {
    RecordReplica replica = replicaOf(items);
    Item before = replica.item(write.userId());
    long now = NOW - 10 + random.nextInt(20);
    Item written = replica.write(write.userId(), write.entry(), now);
    assertEquals(written, replica.item(write.userId()));
    assertEquals(write.entry(), replica.entry(write.userId()));
    assertTrue(written.version() >= now);
    assertTrue(before == null || written.version() > before.version());
  }

  @Property(tries = 300)
  void theTombstonesPurgedAreExactlyTheExpiredOnes(
      @ForAll("items") List<Item> items, @ForAll Random random) {
    RecordReplica replica = replicaOf(items);
    List<Item> before = replica.items();
    long later = NOW + TTL + random.nextInt(7) - 3;
    replica.purgeTombstones(later);
    Set<Item> kept = new HashSet<>(before);
    kept.removeIf(item -> item.entry() == null && item.version() < later - TTL);
    assertEquals(kept, Set.copyOf(replica.items()));
    assertSameState(replicaOf(List.copyOf(kept)), replica);
  }

  @Property(tries = 200)
  void anExpiredTombstoneIsNotKeptWhereThereIsNoVersion(@ForAll("versions") Item item) {
    Item tombstone = new Item(item.userId(), item.version() - TTL - 4, item.writer(), null);
    RecordReplica replica = new RecordReplica("pekko://S@h3:1");
    replica.merge(tombstone, NOW);
    assertEquals(List.of(), replica.items());
  }

  @Property(tries = 200)
  void versionsCrossNodesAsJacksonCborAndComeBackEqual(@ForAll("items") List<Item> items) {
    Items message = new Items(items);
    Serializer serializer = serialization.findSerializerFor(message);
    assertInstanceOf(JacksonCborSerializer.class, serializer);
    byte[] bytes = serialization.serialize(message).get();
    Object back = serialization.deserialize(
        bytes, serializer.identifier(), Serializers.manifestFor(serializer, message)).get();
    assertEquals(message, back);
  }

  /** Whether {@code a}'s (version, writer) is below {@code b}'s. */
  private static boolean olderVersion(Item a, Item b) {
    return a.version() != b.version()
        ? a.version() < b.version()
        : a.writer().compareTo(b.writer()) < 0;
  }

  private static RecordReplica replicaOf(List<Item> items) {
    RecordReplica replica = new RecordReplica("pekko://S@h3:1");
    replica.mergeAll(items, NOW);
    return replica;
  }

  /** A new replica given everything {@code a} then everything {@code b} holds. */
  private static RecordReplica join(RecordReplica a, RecordReplica b) {
    RecordReplica joined = new RecordReplica("pekko://S@h3:1");
    joined.mergeAll(a.items(), NOW);
    joined.mergeAll(b.items(), NOW);
    return joined;
  }

  private static void assertSameState(RecordReplica expected, RecordReplica actual) {
    assertEquals(Set.copyOf(expected.items()), Set.copyOf(actual.items()));
    assertArrayEquals(expected.digests(), actual.digests(), "digests of the same items");
  }
}
