package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.support.TestCluster.ApiAnswer;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three real nodes (three ActorSystems in this JVM, joined over Pekko remoting, each with its own wss
 * and API listener): sends cross nodes through sharding, presence reads the same from every node, and
 * a node that stops takes its connections out of presence.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
  private static TestCluster cluster;
  private static Switchboard a;
  private static Switchboard b;
  private static Switchboard c;
  private static final List<BlockingQueue<PresenceEvent>> events = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    cluster = new TestCluster();
    a = cluster.startNode();
    b = cluster.startNode();
    c = cluster.startNode();
    cluster.awaitMembersUp(3);
    for (Switchboard node : List.of(a, b, c)) {
      BlockingQueue<PresenceEvent> queue = new LinkedBlockingQueue<>();
      node.presenceListener(queue::add);
      events.add(queue);
    }
    // No warm-up: once every node sees every other Up, an event decided anywhere reaches every node.
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static boolean waitFor(
      BlockingQueue<PresenceEvent> queue, String user, PresenceEvent.Kind kind, int seconds)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      PresenceEvent event = queue.poll(100, TimeUnit.MILLISECONDS);
      if (event != null && event.userId().equals(user) && event.kind() == kind) {
        return true;
      }
    }
    return false;
  }

  /** The user's connections as node:id pairs, as {@code node} answers. */
  private static Set<String> connections(Switchboard node, String user) {
    JsonNode presence = cluster.get(node, "/v1/users/" + user + "/presence").body();
    Set<String> result = new TreeSet<>();
    presence.get("connections").forEach(
        connection -> result.add(connection.get("node").asText() + "/" + connection.get("id").asText()));
    return result;
  }

  @Test
  @Order(0)
  void everyNodeListsTheThreeMembersUpAndReachable() {
    List<String> addresses = List.of(a.node(), b.node(), c.node()).stream().sorted().toList();
    for (Switchboard node : List.of(a, b, c)) {
      ApiAnswer answer = cluster.get(node, "/v1/cluster");
      assertEquals(200, answer.status());
      assertEquals(node.node(), answer.body().get("self").asText());
      assertTrue(addresses.contains(answer.body().get("leader").asText()));
      List<String> listed = new ArrayList<>();
      answer.body().get("members").forEach(member -> {
        listed.add(member.get("address").asText());
        assertEquals("up", member.get("status").asText(), member.toString());
        assertTrue(member.get("reachable").asBoolean(), member.toString());
      });
      assertEquals(addresses, listed);
    }
  }

  @Test
  @Order(1)
  void aSendFromTheThirdNodeReachesDevicesOnTheOtherTwo() {
    WsClient onA = cluster.connect(a, "zoe");
    WsClient onB = cluster.connect(b, "zoe");
    TestCluster.await("zoe has 2 connections", () -> connections(c, "zoe").size() == 2);

    ApiAnswer answer = cluster.postJson(c, "/v1/users/zoe/messages", Map.of("from", "c"));
    assertEquals(200, answer.status());
    assertEquals(2, answer.body().get("delivered").asInt());
    assertEquals("{\"from\":\"c\"}", onA.nextText());
    assertEquals("{\"from\":\"c\"}", onB.nextText());

    Set<String> fromA = connections(a, "zoe");
    assertEquals(fromA, connections(b, "zoe"));
    assertEquals(fromA, connections(c, "zoe"));
    assertEquals(
        Set.of(a.node(), b.node()),
        Set.copyOf(fromA.stream().map(s -> s.substring(0, s.indexOf('/'))).toList()));
    onA.close();
    onB.close();
  }

  @Test
  @Order(1)
  void anyNodeReportsWhatEveryMemberHolds() {
    WsClient first = cluster.connect(a, "nina");
    WsClient second = cluster.connect(a, "nina");
    WsClient third = cluster.connect(b, "nina");
    TestCluster.await("c reports nina's sockets on a and b", () -> {
      Map<String, JsonNode> held = heldBy(c);
      return held.size() == 3
          && held.get(a.node()).get("connections").asInt() == 2
          && held.get(a.node()).get("users").asInt() == 1
          && held.get(b.node()).get("connections").asInt() == 1
          && held.get(b.node()).get("users").asInt() == 1
          && held.get(c.node()).get("connections").asInt() == 0
          && held.values().stream().mapToInt(n -> n.get("onlineUsers").asInt()).sum() >= 1;
    });
    assertEquals(0, cluster.get(c, "/v1/nodes").body().get("unanswered").size());
    first.close();
    second.close();
    third.close();
    TestCluster.await("the sockets are gone from every report", () ->
        heldBy(a).values().stream().allMatch(n -> n.get("connections").asInt() == 0));
  }

  /** {@code GET /v1/nodes} as {@code node} answers it, by member address. */
  private static Map<String, JsonNode> heldBy(Switchboard node) {
    ApiAnswer answer = cluster.get(node, "/v1/nodes");
    assertEquals(200, answer.status());
    Map<String, JsonNode> held = new TreeMap<>();
    answer.body().get("nodes").forEach(n -> held.put(n.get("node").asText(), n));
    return held;
  }

  @Test
  @Order(2)
  void presenceEventsOfAUserReachEveryNodeOnce() throws Exception {
    WsClient device = cluster.connect(b, "yuri");
    for (BlockingQueue<PresenceEvent> queue : events) {
      assertTrue(waitFor(queue, "yuri", PresenceEvent.Kind.online, 30));
    }
    device.close();
    for (BlockingQueue<PresenceEvent> queue : events) {
      assertTrue(waitFor(queue, "yuri", PresenceEvent.Kind.offline, 30));
    }
  }

  @Test
  @Order(3)
  void stoppingANodeRemovesItsConnectionsFromPresenceAndOnlyItsLastOneMakesTheUserOffline()
      throws Exception {
    WsClient xOnB = cluster.connect(b, "xena");
    WsClient xOnC = cluster.connect(c, "xena");
    WsClient wOnC = cluster.connect(c, "walt");
    TestCluster.await("xena on b and c", () -> connections(a, "xena").size() == 2);
    TestCluster.await("walt on c", () -> connections(a, "walt").size() == 1);
    events.forEach(BlockingQueue::clear);

    c.close();

    assertEquals(1001, xOnC.awaitClose().code());
    assertEquals(1001, wOnC.awaitClose().code());
    TestCluster.await("xena's device on c is gone", () -> connections(a, "xena").size() == 1);
    assertEquals(Set.of(b.node()),
        Set.copyOf(connections(b, "xena").stream().map(s -> s.substring(0, s.indexOf('/'))).toList()));
    TestCluster.await("walt is offline", () -> connections(a, "walt").isEmpty());
    assertTrue(waitFor(events.get(0), "walt", PresenceEvent.Kind.offline, 30));

    // xena kept a device on b: she never went offline, and a send still reaches that device.
    assertEquals(1, cluster.postJson(a, "/v1/users/xena/messages", Map.of("n", 1)).body()
        .get("delivered").asInt());
    assertEquals("{\"n\":1}", xOnB.nextText());
    for (PresenceEvent event : events.get(0)) {
      assertTrue(!event.userId().equals("xena"), "no presence event for xena: " + event);
    }
    xOnB.close();
  }
}
