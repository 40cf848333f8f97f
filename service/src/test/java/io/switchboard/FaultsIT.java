package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.support.AppWebhook;
import io.switchboard.support.NodeProcess;
import io.switchboard.support.TestCluster;
import io.switchboard.support.ThreeNodeProcesses;
import io.switchboard.support.WsClient;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Faults with real processes, each checked against the presence invariants through what the app sees:
 * the webhook events (deduplicated by id, as the app would) and the presence answers.
 */
class FaultsIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ThreeNodeProcesses cluster;
  private List<NodeProcess> nodes;
  private AppWebhook app;
  private HttpClient http;

  @BeforeEach
  void startApp() {
    app = AppWebhook.start("127.0.0.1");
  }

  @AfterEach
  void stopAll() {
    if (cluster != null) {
      cluster.close();
    }
    app.close();
  }

  private void startCluster(String name, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(extra);
    env.putAll(app.env());
    cluster = ThreeNodeProcesses.onLoopback(name, env);
    nodes = new ArrayList<>(cluster.nodes());
    http = cluster.http();
  }

  private WsClient connect(NodeProcess node, String user) {
    return cluster.connect(node, user);
  }

  private Set<String> nodesOf(NodeProcess via, String user) {
    try {
      HttpResponse<String> answer = http.send(
          ThreeNodeProcesses.apiRequest(via, "/v1/users/" + user + "/presence").build(),
          HttpResponse.BodyHandlers.ofString());
      Set<String> result = new HashSet<>();
      JSON.readTree(answer.body()).get("connections").forEach(c -> result.add(c.get("node").asText()));
      return result;
    } catch (Exception e) {
      return Set.of("unavailable");
    }
  }

  private List<PresenceEvent.Kind> kinds(String user) {
    return app.kinds(user);
  }

  private static String name(NodeProcess node) {
    return ThreeNodeProcesses.name(node);
  }

  @Test
  void sigtermClosesItsSocketsWith1001AndUsersWithOtherDevicesStayOnline() throws Exception {
    startCluster("term", Map.of());
    NodeProcess a = nodes.get(0);
    NodeProcess b = nodes.get(1);
    NodeProcess c = nodes.get(2);
    List<String> multi = List.of("multi-0", "multi-1", "multi-2", "multi-3", "multi-4", "multi-5");
    List<WsClient> onC = new ArrayList<>();
    for (String user : multi) {
      connect(b, user);
      onC.add(connect(c, user));
    }
    WsClient only = connect(c, "c-only");
    TestCluster.await("everyone online",
        () -> multi.stream().allMatch(u -> kinds(u).equals(List.of(PresenceEvent.Kind.online)))
            && kinds("c-only").equals(List.of(PresenceEvent.Kind.online)));

    c.terminate();

    for (WsClient device : onC) {
      assertEquals(1001, device.awaitClose().code());
    }
    assertEquals(1001, only.awaitClose().code());
    TestCluster.await("c-only is offline", () -> kinds("c-only").equals(
        List.of(PresenceEvent.Kind.online, PresenceEvent.Kind.offline)));
    for (String user : multi) {
      TestCluster.await(user + " is on b only", () -> nodesOf(a, user).equals(Set.of(name(b))));
    }
    for (String user : multi) {
      assertEquals(List.of(PresenceEvent.Kind.online), kinds(user), user + ": no offline/online pair");
    }
  }

  @Test
  void aRollingRestartKeepsEveryoneOnlineWhoReconnectsWithinTheGrace() throws Exception {
    startCluster("rolling", Map.of("PRESENCE_OFFLINE_GRACE", "15s"));
    Map<String, NodeProcess> home = new LinkedHashMap<>();
    Map<String, WsClient> devices = new LinkedHashMap<>();
    for (int i = 0; i < 9; i++) {
      String user = "roll-" + i;
      home.put(user, nodes.get(i % 3));
      devices.put(user, connect(nodes.get(i % 3), user));
    }
    TestCluster.await("everyone online",
        () -> home.keySet().stream().allMatch(u -> kinds(u).equals(List.of(PresenceEvent.Kind.online))));

    for (int n = 0; n < 3; n++) {
      NodeProcess stopping = nodes.get(n);
      NodeProcess next = nodes.get((n + 1) % 3);
      stopping.terminate();
      for (Map.Entry<String, NodeProcess> entry : home.entrySet()) {
        if (entry.getValue() == stopping) {
          // What a client library does on 1001: reconnect, here to the next node.
          assertEquals(1001, devices.get(entry.getKey()).awaitClose().code());
          devices.put(entry.getKey(), connect(next, entry.getKey()));
          entry.setValue(next);
        }
      }
      nodes.set(n, cluster.restart(n));
    }

    NodeProcess any = nodes.get(0);
    for (Map.Entry<String, NodeProcess> entry : home.entrySet()) {
      TestCluster.await(entry.getKey() + " is where its device is",
          () -> nodesOf(any, entry.getKey()).equals(Set.of(name(entry.getValue()))));
    }
    // A marker that goes away now goes offline one grace later: by then the grace of anyone who was
    // without a connection earlier has run out too, so any offline of theirs would have arrived.
    String marker = "marker";
    WsClient probe = connect(any, marker);
    TestCluster.await("the marker's online arrived", () -> kinds(marker).size() == 1);
    probe.close();
    TestCluster.await("the marker's offline arrived, a grace later", () -> kinds(marker).equals(
        List.of(PresenceEvent.Kind.online, PresenceEvent.Kind.offline)));
    for (String user : home.keySet()) {
      assertEquals(List.of(PresenceEvent.Kind.online), kinds(user), user);
    }
  }
}
