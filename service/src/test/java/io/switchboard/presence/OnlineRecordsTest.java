package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.switchboard.support.TestKitCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The replicated online records across nodes in this JVM: a write reaches the others, a majority read
 * finds what only another replica has, a joining node catches up, a write lost on the way is repaired
 * by gossip, and a removal is not undone by an older copy.
 */
class OnlineRecordsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final OnlineRecords.Entry ENTRY =
      new OnlineRecords.Entry("event-1", "pekko://Records@127.0.0.1:1", 0,
          List.of(new OnlineRecords.RecordedConnection("c1", "node:1")));
  private static final OnlineRecords.Entry PROBE =
      new OnlineRecords.Entry("probe", "pekko://Records@127.0.0.1:2", 0, List.of());

  private final List<ActorTestKit> nodes = new ArrayList<>();

  private ActorTestKit node(String gossipInterval) {
    Config config =
        TestKitCluster.node("switchboard.presence.record-gossip-interval = " + gossipInterval);
    ActorTestKit node = ActorTestKit.create("Records", config);
    nodes.add(node);
    OnlineRecords.get(node.system());
    return node;
  }

  /** {@code size} nodes joined into a cluster, each replica counting the others. */
  private List<ActorTestKit> cluster(int size, String gossipInterval) {
    List<ActorTestKit> members = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      members.add(node(gossipInterval));
    }
    TestKitCluster.join(members);
    awaitPeers(members);
    return members;
  }

  @AfterEach
  void stop() {
    nodes.forEach(ActorTestKit::shutdownTestKit);
  }

  @Test
  void aWriteOnOneNodeIsOnEveryReplicaAndARemovalToo() {
    List<ActorTestKit> all = cluster(3, "1h");
    ActorTestKit a = all.get(0);
    ActorTestKit b = all.get(1);

    put(a, "alice", ENTRY);
    for (ActorTestKit node : all) {
      awaitLocal(node, "alice", Optional.of(ENTRY));
    }
    put(b, "alice", null);
    for (ActorTestKit node : all) {
      awaitLocal(node, "alice", Optional.empty());
    }
  }

  @Test
  void aMajorityReadFindsARecordThatOnlyAnotherReplicaHas() {
    List<ActorTestKit> two = cluster(2, "1h");
    ActorTestKit a = two.get(0);
    ActorTestKit b = two.get(1);

    // As if a's write to b had been lost: only a has it.
    give(a, new OnlineRecords.Item("bob", System.currentTimeMillis(), "a", ENTRY));
    assertEquals(Optional.empty(), get(b, "bob", false));
    assertEquals(Optional.of(ENTRY), get(b, "bob", true));
    // The read kept what it learned.
    assertEquals(Optional.of(ENTRY), get(b, "bob", false));
  }

  @Test
  void aNodeThatJoinsGetsEveryRecordAndTheUsersOnAHost() {
    List<ActorTestKit> two = cluster(2, "1h");
    ActorTestKit a = two.get(0);
    ActorTestKit b = two.get(1);
    Set<String> users = new HashSet<>();
    for (int i = 0; i < 1500; i++) {
      users.add("user-" + i);
      put(i % 2 == 0 ? a : b, "user-" + i, ENTRY);
    }
    put(a, "gone", ENTRY);
    put(a, "gone", null);

    ActorTestKit c = node("1h");
    Cluster.get(c.system()).manager().tell(
        Join.create(Cluster.get(a.system()).selfMember().address()));
    c.createTestProbe().awaitAssert(Duration.ofSeconds(30), () -> {
      assertEquals(users, new HashSet<>(usersOnHost(c, ENTRY.host())));
      return null;
    });
  }

  @Test
  void gossipRepairsAWriteThatOneReplicaMissed() {
    List<ActorTestKit> two = cluster(2, "200ms");
    ActorTestKit a = two.get(0);
    ActorTestKit b = two.get(1);

    give(a, new OnlineRecords.Item("carol", System.currentTimeMillis(), "a", ENTRY));
    awaitLocal(b, "carol", Optional.of(ENTRY));
    give(b, new OnlineRecords.Item("carol", System.currentTimeMillis() + 1, "b", null));
    awaitLocal(a, "carol", Optional.empty());
  }

  @Test
  void aRemovalIsNotUndoneByAnOlderCopy() {
    ActorTestKit a = node("1h");
    TestKitCluster.join(List.of(a));
    put(a, "dave", ENTRY);
    put(a, "dave", null);
    give(a, new OnlineRecords.Item("dave", System.currentTimeMillis() - 60_000, "z", ENTRY));
    assertEquals(Optional.empty(), get(a, "dave", false));
    // A newer version does win.
    give(a, new OnlineRecords.Item("dave", System.currentTimeMillis() + 60_000, "z", ENTRY));
    assertEquals(Optional.of(ENTRY), get(a, "dave", false));
  }

  @Test
  void anEntityStartingOnAnotherNodeRecoversTheUserFromARecordOnlyTheOldNodeHas() {
    List<ActorTestKit> two = cluster(2, "1h");
    ActorTestKit a = two.get(0);
    ActorTestKit b = two.get(1);
    give(a, new OnlineRecords.Item("erin", System.currentTimeMillis(), "a", ENTRY));

    TestProbe<PresenceEvents.Command> events = b.createTestProbe(PresenceEvents.Command.class);
    TestProbe<ClusterSharding.ShardCommand> shard = b.createTestProbe(ClusterSharding.ShardCommand.class);
    ActorRef<UserPresence.Command> entity = b.spawn(UserPresence.create(
        "erin", shard.getRef(), events.getRef(), Duration.ZERO, Duration.ofMinutes(10), 3,
        new UserPresence.Records(TIMEOUT, Duration.ofMinutes(5))));
    TestProbe<UserPresence.Snapshot> reply = b.createTestProbe(UserPresence.Snapshot.class);
    entity.tell(new UserPresence.GetPresence(reply.getRef()));
    assertTrue(reply.receiveMessage(Duration.ofSeconds(15)).online(), "recovering the recorded user");
  }

  /** Writes and waits for the majority's answer. */
  private static void put(ActorTestKit node, String userId, OnlineRecords.Entry entry) {
    TestProbe<String> written = node.createTestProbe();
    OnlineRecords.get(node.system()).ref().tell(
        new OnlineRecords.Put<>(userId, entry, TIMEOUT, written.getRef(), "written"));
    written.expectMessage(Duration.ofSeconds(10), "written");
  }

  private static Optional<OnlineRecords.Entry> get(ActorTestKit node, String userId, boolean majority) {
    TestProbe<Optional<OnlineRecords.Entry>> answer = node.createTestProbe();
    OnlineRecords.get(node.system()).ref().tell(
        new OnlineRecords.Get<>(userId, majority, TIMEOUT, answer.getRef(), Optional::ofNullable));
    return answer.receiveMessage(Duration.ofSeconds(10));
  }

  private static List<String> usersOnHost(ActorTestKit node, String host) {
    TestProbe<List<String>> answer = node.createTestProbe();
    OnlineRecords.get(node.system()).ref().tell(
        new OnlineRecords.UsersOnHost<>(host, answer.getRef(), users -> users));
    return answer.receiveMessage(Duration.ofSeconds(10));
  }

  /** Hands {@code item} to one replica only, as a write from elsewhere that reached no other. */
  private static void give(ActorTestKit node, OnlineRecords.Item item) {
    OnlineRecords.get(node.system()).ref().tell(new OnlineRecords.Items(List.of(item)));
  }

  private static void awaitLocal(
      ActorTestKit node, String userId, Optional<OnlineRecords.Entry> expected) {
    node.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
      assertEquals(expected, get(node, userId, false));
      return null;
    });
  }

  /**
   * Waits until every replica counts the others (it learns of them from membership events, a little
   * after the cluster shows them Up): a write on each then reaches all before it is answered.
   */
  private static void awaitPeers(List<ActorTestKit> nodes) {
    for (ActorTestKit node : nodes) {
      String probeUser = "probe-" + Cluster.get(node.system()).selfMember().address();
      put(node, probeUser, PROBE);
      for (ActorTestKit other : nodes) {
        awaitLocal(other, probeUser, Optional.of(PROBE));
      }
    }
  }
}
