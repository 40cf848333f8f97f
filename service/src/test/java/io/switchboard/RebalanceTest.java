package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;

/**
 * A node joins while sends flow: shards move to it, and every send is still handed to every device of
 * its user exactly once and in order, with {@code delivered} saying so, and no presence event is made.
 */
class RebalanceTest {

  /** Users whose entity runs on {@code node} now. */
  private static List<String> entitiesOn(Switchboard node) {
    TestProbe<ShardRegion.CurrentShardRegionState> probe = TestProbe.create(node.system());
    ClusterSharding.get(node.system()).shardState()
        .tell(new GetShardRegionState(UserPresence.TYPE_KEY, probe.getRef()));
    List<String> users = new ArrayList<>();
    probe.receiveMessage(Duration.ofSeconds(10)).getShards()
        .forEach(shard -> users.addAll(shard.getEntityIds()));
    return users;
  }

  @Test
  void sendsReachEveryDeviceExactlyOnceWhileShardsMoveToAJoiningNode() throws Exception {
    try (TestCluster cluster = new TestCluster()) {
      Switchboard a = cluster.startNode();
      Switchboard b = cluster.startNode();
      cluster.awaitMembersUp(2);
      List<PresenceEvent> events = new CopyOnWriteArrayList<>();
      a.presenceListener(events::add);

      List<String> users = new ArrayList<>();
      Map<String, List<WsClient>> devices = new HashMap<>();
      for (int i = 0; i < 12; i++) {
        String user = "rb-" + i;
        users.add(user);
        devices.put(user, List.of(cluster.connect(a, user), cluster.connect(b, user)));
      }
      TestCluster.await("everyone online", () -> events.size() == users.size());

      // Sends flow from a while c joins and shards move to it.
      List<CompletableFuture<Integer>> answers = new ArrayList<>();
      Map<Integer, String> recipient = new HashMap<>();
      int[] sent = {0};
      Runnable sendRound = () -> {
        for (String user : users) {
          int id = sent[0]++;
          recipient.put(id, user);
          answers.add(a.send(user, Integer.toString(id)).toCompletableFuture());
        }
      };
      sendRound.run();
      Switchboard c = cluster.startNode();
      cluster.awaitMembersUp(3);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (users.stream().noneMatch(entitiesOn(c)::contains)) {
        assertTrue(System.nanoTime() < deadline, "no shard moved to the new node within 60 s");
        sendRound.run();
        Thread.sleep(100);
      }
      for (int round = 0; round < 20; round++) {
        sendRound.run();
        Thread.sleep(50);
      }

      // What each device got: a marker sent last to every user closes each device's list.
      Map<Integer, Integer> received = new HashMap<>();
      for (String user : users) {
        assertEquals(2, a.send(user, "end").toCompletableFuture().get(30, TimeUnit.SECONDS));
        for (WsClient device : devices.get(user)) {
          List<Integer> got = new ArrayList<>();
          for (String text = device.nextText(); !text.equals("end"); text = device.nextText()) {
            got.add(Integer.parseInt(text));
          }
          List<Integer> sorted = new ArrayList<>(got);
          sorted.sort(Integer::compare);
          assertEquals(sorted, got, user + ": in order");
          assertEquals(new java.util.HashSet<>(got).size(), got.size(), user + ": no duplicates");
          got.forEach(id -> received.merge(id, 1, Integer::sum));
        }
      }
      // Every send reached both devices, and delivered says so.
      for (int id = 0; id < sent[0]; id++) {
        assertEquals(2, answers.get(id).get(30, TimeUnit.SECONDS).intValue(),
            "send " + id + " to " + recipient.get(id) + " was handed to both devices");
        assertEquals(2, received.getOrDefault(id, 0).intValue(), "send " + id + " reached both devices");
      }
      assertEquals(users.size(), events.size(), "no presence event while shards moved");
    }
  }
}
