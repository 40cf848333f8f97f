package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.Switchboard;
import io.switchboard.support.RawUpgrade;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Refusals at the upgrade, before any connection actor: pages of other origins, and a full node. */
class UpgradeLimitsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestCluster cluster;
  private static Switchboard node;

  @BeforeAll
  static void start() {
    cluster = new TestCluster();
    node =
        cluster.startNode(
            Map.of(
                "switchboard.wss.allowed-origins", "https://app.example.com, http://localhost:3000/",
                "switchboard.wss.max-connections", 3,
                "switchboard.presence.max-connections-per-user", 2));
    cluster.awaitMembersUp(1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private RawUpgrade.Answer upgrade(Map<String, String> headers) throws Exception {
    Map<String, String> all = new java.util.HashMap<>(headers);
    all.put("Authorization", "Bearer " + cluster.token("limits"));
    return RawUpgrade.upgrade(cluster.tls(), node.wssPort(), "/socket", all);
  }

  private static final java.util.concurrent.atomic.AtomicInteger users =
      new java.util.concurrent.atomic.AtomicInteger();

  /** A connection of a new user each time (the per-user maximum is 2 here). */
  private WsClient connect(Map<String, String> headers) {
    return connect("limits-" + users.incrementAndGet(), headers);
  }

  private WsClient connect(String user, Map<String, String> headers) {
    Map<String, String> all = new java.util.HashMap<>(headers);
    all.put("Authorization", "Bearer " + cluster.token(user));
    return WsClient.connect(cluster.http(), cluster.socketUri(node), all, List.of());
  }

  @Test
  void aPageOfAnotherOriginIsRefusedWith403AndListedOnesAndOriginlessClientsPass() throws Exception {
    RawUpgrade.Answer evil = upgrade(Map.of("Origin", "https://evil.example.net"));
    assertEquals(403, evil.status());
    JsonNode body = JSON.readTree(evil.body());
    assertEquals("origin_not_allowed", body.get("code").asText());

    // Listed origins pass, compared without case or a trailing slash; no Origin at all is not a browser.
    List<WsClient> passed = new ArrayList<>();
    passed.add(connect(Map.of("Origin", "https://APP.example.com")));
    passed.add(connect(Map.of("Origin", "http://localhost:3000")));
    passed.add(connect(Map.of()));
    for (WsClient client : passed) {
      assertFalse(client.isClosed());
      client.close();
    }
    TestCluster.await("the three sockets are closed on the node's side too", () -> {
      try {
        return upgrade(Map.of("Origin", "https://evil.example.net")).status() == 403;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @Test
  void aUsersConnectionBeyondTheirMaximumIsClosedWith4029() {
    List<WsClient> open = new ArrayList<>();
    TestCluster.await("two connections of one user open", () -> {
      try {
        open.add(connect("many-devices", Map.of()));
      } catch (RuntimeException e) {
        // the node may still hold a socket of the other test (3 at most)
      }
      return open.size() == 2;
    });
    TestCluster.await("both registered", () ->
        cluster.get(node, "/v1/users/many-devices/presence").body().get("connections").size() == 2);
    WsClient third = connect("many-devices", Map.of());
    WsClient.Closed closed = third.awaitClose();
    assertEquals(4029, closed.code());
    assertEquals(2, cluster.get(node, "/v1/users/many-devices/presence").body().get("connections").size());
    open.forEach(WsClient::close);
  }

  @Test
  void anUpgradeBeyondTheNodesMaximumGets503UntilASocketCloses() throws Exception {
    List<WsClient> open = new ArrayList<>();
    TestCluster.await("three sockets open", () -> {
      try {
        open.add(connect(Map.of()));
      } catch (RuntimeException e) {
        // a socket of the other test may still be closing on the node's side
      }
      return open.size() == 3;
    });
    RawUpgrade.Answer full = upgrade(Map.of());
    assertEquals(503, full.status());
    assertEquals("node_full", JSON.readTree(full.body()).get("code").asText());

    open.remove(0).close();
    TestCluster.await("a place is free again", () -> {
      try {
        WsClient again = connect(Map.of());
        open.add(again);
        return true;
      } catch (RuntimeException e) {
        return false;
      }
    });
    open.forEach(WsClient::close);
  }
}
