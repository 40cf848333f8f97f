package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.switchboard.support.TestKitCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Where a starting {@link UserPresence} reads its record from: from a majority while its shard's stay
 * on this node has not read the bucket so yet, and from this node's replica after that. Two nodes in
 * this JVM with replication between them turned off, so that a record written on one node with local
 * consistency is on that node only, and what the other node's entity finds shows where it read.
 */
class CaughtUpShardsTest {
  private static final Config NODE =
      TestKitCluster.node(
          """
          pekko.cluster.distributed-data.gossip-interval = 1h
          pekko.cluster.distributed-data.delta-crdt.enabled = off
          """);
  /** A recovery that outlasts the test: an entity that found a record stays online meanwhile. */
  private static final UserPresence.Records RECORDS =
      new UserPresence.Records(Duration.ofSeconds(5), Duration.ofMinutes(5), 10);

  private ActorTestKit writer;
  private ActorTestKit reader;

  /** Stands for a shard's stay on the reader node: the parent of the entities it starts. */
  private record Start(String userId, ActorRef<ActorRef<UserPresence.Command>> replyTo) {}

  @BeforeEach
  void twoNodes() {
    writer = ActorTestKit.create("CaughtUp", NODE);
    reader = ActorTestKit.create("CaughtUp", NODE);
    TestKitCluster.join(List.of(writer, reader));
    // The reader's replicator counts the writer in its majority once a majority read finds a value
    // that only the writer has.
    Key<LWWMap<String, String>> probeKey = OnlineRecords.key("probe", 1);
    writeLocally("probe", probeKey);
    reader.createTestProbe().awaitAssert(Duration.ofSeconds(30), () -> {
      assertTrue(readMajority(probeKey).containsKey("probe"));
      return null;
    });
  }

  @AfterEach
  void stop() {
    reader.shutdownTestKit();
    writer.shutdownTestKit();
  }

  @Test
  void aShardsFirstEntityOnANodeReadsFromAMajorityAndTheLaterOnesLocally() {
    String first = "user-" + UUID.randomUUID();
    String second = sameBucketAs(first);
    writeLocally(first, OnlineRecords.key(first, RECORDS.shards()));
    ActorRef<Start> stay = reader.spawn(shardStay());

    assertTrue(snapshot(start(stay, first)).online(), "the first read reaches the writer's record");

    // Only the node that hosts the shard writes its bucket, so this replica now has all there is.
    // A record written elsewhere (which the service never does) is not seen: the read was local.
    writeLocally(second, OnlineRecords.key(second, RECORDS.shards()));
    assertFalse(snapshot(start(stay, second)).online(), "a caught-up shard stay reads locally");

    // A new stay of the shard here (it moved away and back) reads from a majority again.
    ActorRef<Start> nextStay = reader.spawn(shardStay());
    assertTrue(snapshot(start(nextStay, second)).online(), "a new stay reads from a majority");
  }

  private Behavior<Start> shardStay() {
    TestProbe<PresenceEvents.Command> events = reader.createTestProbe(PresenceEvents.Command.class);
    TestProbe<ClusterSharding.ShardCommand> shard =
        reader.createTestProbe(ClusterSharding.ShardCommand.class);
    return Behaviors.receive((context, start) -> {
      start.replyTo().tell(context.spawnAnonymous(UserPresence.create(
          start.userId(), shard.getRef(), events.getRef(), Duration.ZERO, Duration.ofMinutes(10),
          3, RECORDS)));
      return Behaviors.same();
    });
  }

  private ActorRef<UserPresence.Command> start(ActorRef<Start> stay, String userId) {
    TestProbe<ActorRef<UserPresence.Command>> started = reader.createTestProbe();
    stay.tell(new Start(userId, started.getRef()));
    return started.receiveMessage();
  }

  private UserPresence.Snapshot snapshot(ActorRef<UserPresence.Command> entity) {
    TestProbe<UserPresence.Snapshot> reply = reader.createTestProbe(UserPresence.Snapshot.class);
    entity.tell(new UserPresence.GetPresence(reply.getRef()));
    return reply.receiveMessage(Duration.ofSeconds(15));
  }

  private static String sameBucketAs(String user) {
    Key<LWWMap<String, String>> key = OnlineRecords.key(user, RECORDS.shards());
    while (true) {
      String other = "user-" + UUID.randomUUID();
      if (OnlineRecords.key(other, RECORDS.shards()).equals(key)) {
        return other;
      }
    }
  }

  /** An online record of {@code userId} on the writer node only. */
  private void writeLocally(String userId, Key<LWWMap<String, String>> key) {
    SelfUniqueAddress self = DistributedData.get(writer.system()).selfUniqueAddress();
    String value =
        new OnlineRecords.Entry("online-" + userId, "pekko://CaughtUp@127.0.0.1:1", 0, List.of())
            .encode();
    TestProbe<Replicator.UpdateResponse<LWWMap<String, String>>> done = writer.createTestProbe();
    DistributedData.get(writer.system()).replicator().tell(new Replicator.Update<>(
        key, LWWMap.create(), Replicator.writeLocal(), done.getRef(),
        map -> map.put(self, userId, value)));
    assertTrue(done.receiveMessage() instanceof Replicator.UpdateSuccess);
  }

  private Map<String, String> readMajority(Key<LWWMap<String, String>> key) {
    TestProbe<Replicator.GetResponse<LWWMap<String, String>>> answer = reader.createTestProbe();
    DistributedData.get(reader.system()).replicator().tell(new Replicator.Get<>(
        key, new Replicator.ReadMajority(Duration.ofSeconds(3)), answer.getRef()));
    Replicator.GetResponse<LWWMap<String, String>> response = answer.receiveMessage();
    return response instanceof Replicator.GetSuccess<LWWMap<String, String>> success
        ? success.dataValue().getEntries()
        : Map.of();
  }
}
