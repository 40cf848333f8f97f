package io.switchboard.properties;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.Switchboard;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Send-to-user routing, end to end on a two-node cluster: for any users (odd characters, slashes,
 * dots, percent signs and all) with any number of connections on either node, a multi-send to any of
 * them reaches every open connection of each target exactly once, no one else, and the answer counts
 * exactly those.
 */
class RoutingProperties {
  private static TestCluster cluster;
  private static List<Switchboard> nodes;
  private static final AtomicInteger round = new AtomicInteger();

  @BeforeContainer
  static void start() {
    cluster = new TestCluster();
    nodes = List.of(cluster.startNode(), cluster.startNode());
    cluster.awaitMembersUp(2);
  }

  @AfterContainer
  static void stop() {
    cluster.close();
  }

  @Provide
  Arbitrary<List<String>> users() {
    Arbitrary<String> id =
        Arbitraries.of("a", "b", "/", ".", "..", "%", "%2F", "?", "#", "&", " ", "+", "é", "𝄞", "-", "_", "~")
            .list().ofMinSize(1).ofMaxSize(6).map(parts -> String.join("", parts));
    return id.list().ofMinSize(1).ofMaxSize(4).uniqueElements();
  }

  @Provide
  Arbitrary<List<Integer>> devices() {
    return Arbitraries.integers().between(0, 3).list().ofSize(4);
  }

  @Property(tries = 25)
  void everyOpenConnectionOfEachTargetGetsTheMessageOnceAndNoOneElse(
      @ForAll("users") List<String> ids,
      @ForAll("devices") List<Integer> deviceCounts,
      @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 15) int targetMask) throws Exception {
    // Fresh ids per try, so earlier tries' connections (still closing) cannot count.
    String prefix = "r" + round.incrementAndGet() + "-";
    Map<String, List<WsClient>> clients = new LinkedHashMap<>();
    for (int u = 0; u < ids.size(); u++) {
      String user = prefix + ids.get(u);
      List<WsClient> list = new ArrayList<>();
      for (int d = 0; d < deviceCounts.get(u); d++) {
        list.add(cluster.connect(nodes.get(d % 2), user));
      }
      clients.put(user, list);
    }
    for (Map.Entry<String, List<WsClient>> entry : clients.entrySet()) {
      String path = "/v1/users/" + URLEncoder.encode(entry.getKey(), StandardCharsets.UTF_8)
          .replace("+", "%20") + "/presence";
      int expected = entry.getValue().size();
      TestCluster.await(entry.getKey() + " has " + expected + " connections",
          () -> cluster.get(nodes.get(1), path).body().get("connections").size() == expected);
    }

    List<String> targets = new ArrayList<>();
    List<String> users = List.copyOf(clients.keySet());
    for (int u = 0; u < users.size(); u++) {
      if ((targetMask & (1 << u)) != 0 || targets.isEmpty() && u == users.size() - 1) {
        targets.add(users.get(u));
      }
    }
    String marker = "m" + round.get();
    JsonNode answer = cluster.postJson(nodes.get(0), "/v1/messages",
        Map.of("to", targets, "message", Map.of("marker", marker))).body();

    Map<String, Integer> counted = new HashMap<>();
    answer.get("results").forEach(r -> counted.put(r.get("userId").asText(), r.get("delivered").asInt()));
    for (String user : users) {
      boolean target = targets.contains(user);
      if (target) {
        assertEquals(clients.get(user).size(), counted.get(user),
            "delivered to " + user + " (answer " + answer + ", users " + clients.keySet() + ")");
      }
      for (WsClient client : clients.get(user)) {
        if (target) {
          assertEquals("{\"marker\":\"" + marker + "\"}", client.nextText(), user);
        }
      }
    }
    // Nothing more: no duplicate for targets, nothing at all for the others.
    for (String user : users) {
      for (WsClient client : clients.get(user)) {
        cluster.postJson(nodes.get(0), "/v1/messages", Map.of("to", List.of(user), "message", Map.of("end", 1)));
        assertEquals("{\"end\":1}", client.nextText(), user + " got nothing else before the end marker");
      }
    }
    clients.values().forEach(list -> list.forEach(WsClient::close));
  }
}
