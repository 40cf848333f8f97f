package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.support.AppWebhook;
import io.switchboard.support.NamespaceNetwork;
import io.switchboard.support.NodeProcess;
import io.switchboard.support.TestCluster;
import io.switchboard.support.ThreeNodeProcesses;
import io.switchboard.support.WsClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A network partition with real processes: three nodes, each in a Linux network namespace of its own
 * ({@link NamespaceNetwork}), and node 3 cut off from nodes 1 and 2 while the test (clients, API calls,
 * the app's webhook receiver) still reaches all three. Checked against the presence invariants through
 * what the app sees: webhook events deduplicated by id and ordered by {@code seq}, as the README tells
 * the app to do, the presence answers, and the clients' sockets.
 *
 * <p>Users: {@code a-*} have two devices each, both on node 3; {@code b-*} one on node 1 and one on
 * node 3; {@code c-*} one on node 2. Several of each, so that some users' entities live on node 3 and
 * some on the majority side (sharding decides, the test cannot).
 *
 * <p>What happens when node 3 is cut off (as observed, and asserted): once the failure detector has
 * marked it unreachable and membership has been stable for {@code DOWN_UNREACHABLE_AFTER}, the Split
 * Brain Resolver (keep-majority) downs node 3 on the majority side, and node 3, alone on its side, downs
 * itself: it stops its shard region first (so it decides no presence events of its own), closes its
 * sockets with 1001 and exits with status 255 (Pekko's -1 for a downed node). The majority then
 * recovers the users whose entities were on node 3 from the replicated online records.
 *
 * <p>Clients use {@code ws://} ({@code TLS=off}): the dev certificate names only localhost and loopback
 * addresses, and TLS plays no part in a partition. Needs root (skipped otherwise).
 */
class PartitionIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = ThreeNodeProcesses.API_KEY;

  private static final List<String> ONLY_ON_THREE = List.of("a-0", "a-1", "a-2", "a-3");
  private static final List<String> ON_ONE_AND_THREE = List.of("b-0", "b-1", "b-2", "b-3");
  private static final List<String> ONLY_ON_TWO = List.of("c-0", "c-1");

  private NamespaceNetwork network;
  private ThreeNodeProcesses cluster;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private AppWebhook app;
  private HttpClient http;
  private final long started = System.nanoTime();

  @BeforeEach
  void startCluster() {
    assumeTrue(NamespaceNetwork.supported(), "needs root, iproute2 and nft for network namespaces");
    network = NamespaceNetwork.create(3);
    app = AppWebhook.start(network.hostAddress(), event -> log("event " + event));
    cluster = ThreeNodeProcesses.inNamespaces("partition", network, app.env());
    nodes.addAll(cluster.nodes());
    http = cluster.http();
    log("three nodes ready");
  }

  @AfterEach
  void stopAll() {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      if (app != null) {
        app.close();
      }
      if (network != null) {
        network.close();
      }
    }
  }

  @Test
  void aNodeCutOffFromTheMajorityTakesOnlyItsOwnUsersOfflineOnceAndAllComesBackAfterTheHeal()
      throws Exception {
    NodeProcess one = nodes.get(0);
    NodeProcess two = nodes.get(1);
    NodeProcess three = nodes.get(2);
    Map<String, List<WsClient>> onThree = new LinkedHashMap<>();
    Map<String, WsClient> onOne = new LinkedHashMap<>();
    List<WsClient> onTwo = new ArrayList<>();
    for (String user : ONLY_ON_THREE) {
      onThree.put(user, List.of(connect(three, user), connect(three, user)));
    }
    for (String user : ON_ONE_AND_THREE) {
      onOne.put(user, connect(one, user));
      onThree.put(user, List.of(connect(three, user)));
    }
    for (String user : ONLY_ON_TWO) {
      onTwo.add(connect(two, user));
    }
    for (String user : allUsers().toList()) {
      awaitKinds(user, "online");
    }
    awaitPresence(List.of(one, two, three), Set.of(name(three)), Set.of(name(one), name(three)),
        Set.of(name(two)));
    log("everyone online, presence the same on all three nodes");

    network.partition(2);
    log("node 3 cut off from nodes 1 and 2");

    for (String user : ONLY_ON_THREE) {
      awaitKinds(user, "online", "offline");
    }
    log("the users only on node 3 are offline");
    awaitPresence(List.of(one, two), Set.of(), Set.of(name(one)), Set.of(name(two)));
    log("presence on nodes 1 and 2 lists only their own connections");
    // Node 3 is in the minority: it downs itself, closes its sockets as in a shutdown, and exits.
    for (Map.Entry<String, List<WsClient>> user : onThree.entrySet()) {
      for (WsClient device : user.getValue()) {
        assertEquals(1001, device.awaitClose().code(), user.getKey() + "'s device on node 3");
      }
    }
    // -1: Pekko's exit code for a node that shuts down because it was downed.
    assertEquals(255, three.awaitExit(), "node 3's exit status");
    log("node 3 closed its sockets with 1001 and exited");
    for (String user : ON_ONE_AND_THREE) {
      String message = "{\"to\":\"" + user + "\",\"when\":\"partitioned\"}";
      assertEquals(1, send(one, user, message), user + ": only the device on node 1 is left");
      assertEquals(message, onOne.get(user).nextText());
    }
    marker(one, "marker-1");
    for (String user : ONLY_ON_THREE) {
      assertEquals(List.of("online", "offline"), kinds(user), user);
    }
    for (String user : Stream.concat(ON_ONE_AND_THREE.stream(), ONLY_ON_TWO.stream()).toList()) {
      assertEquals(List.of("online"), kinds(user), user + ": no offline/online pair");
    }
    log("the partitioned side checked");

    network.heal();
    three = cluster.restart(2);
    nodes.set(2, three);
    log("node 3 restarted after the heal and is ready");
    Map<String, WsClient> backOnThree = new LinkedHashMap<>();
    for (String user : ONLY_ON_THREE) {
      connect(three, user);
      connect(three, user);
    }
    for (String user : ON_ONE_AND_THREE) {
      backOnThree.put(user, connect(three, user));
    }
    for (String user : ONLY_ON_THREE) {
      awaitKinds(user, "online", "offline", "online");
    }
    awaitPresence(List.of(one, two, three), Set.of(name(three)), Set.of(name(one), name(three)),
        Set.of(name(two)));
    log("everyone back, presence the same on all three nodes");
    for (String user : ON_ONE_AND_THREE) {
      String message = "{\"to\":\"" + user + "\",\"when\":\"healed\"}";
      assertEquals(2, send(one, user, message), user + ": both devices");
      assertEquals(message, onOne.get(user).nextText());
      assertEquals(message, backOnThree.get(user).nextText());
    }
    marker(three, "marker-2");
    for (String user : ONLY_ON_THREE) {
      assertEquals(List.of("online", "offline", "online"), kinds(user), user);
    }
    for (String user : Stream.concat(ON_ONE_AND_THREE.stream(), ONLY_ON_TWO.stream()).toList()) {
      assertEquals(List.of("online"), kinds(user), user + ": no events since the first online");
    }
    for (String user : ON_ONE_AND_THREE) {
      assertEquals(0, onOne.get(user).pending(), user + ": each send arrived once on node 1");
      assertEquals(0, backOnThree.get(user).pending(), user + ": each send arrived once on node 3");
    }
    log("the healed cluster checked");
  }

  private Stream<String> allUsers() {
    return Stream.of(ONLY_ON_THREE, ON_ONE_AND_THREE, ONLY_ON_TWO).flatMap(List::stream);
  }

  /**
   * Waits until every node in {@code via} gives the same presence answer for each user, with the users'
   * connections on the nodes given per group (none: offline).
   */
  private void awaitPresence(
      List<NodeProcess> via, Set<String> a, Set<String> b, Set<String> c) {
    Map<String, Set<String>> expected = new LinkedHashMap<>();
    ONLY_ON_THREE.forEach(u -> expected.put(u, a));
    ON_ONE_AND_THREE.forEach(u -> expected.put(u, b));
    ONLY_ON_TWO.forEach(u -> expected.put(u, c));
    for (Map.Entry<String, Set<String>> entry : expected.entrySet()) {
      String user = entry.getKey();
      TestCluster.await(
          user + " on " + entry.getValue() + ", the same answer from " + via.size() + " nodes",
          () -> {
            List<JsonNode> answers = via.stream().map(n -> presence(n, user)).toList();
            JsonNode first = answers.get(0);
            return first != null
                && answers.stream().allMatch(first::equals)
                && first.get("online").asBoolean() == !entry.getValue().isEmpty()
                && nodesIn(first).equals(entry.getValue());
          });
    }
  }

  private static Set<String> nodesIn(JsonNode presence) {
    Set<String> result = new TreeSet<>();
    presence.get("connections").forEach(c -> result.add(c.get("node").asText()));
    return result;
  }

  /** A user whose online, once it arrived, comes after every event decided before it. */
  private void marker(NodeProcess node, String user) {
    connect(node, user);
    awaitKinds(user, "online");
  }

  /** Waits until the user's events are {@code kinds}; on a timeout tells what there is instead. */
  private void awaitKinds(String user, String... kinds) {
    try {
      TestCluster.await(user + "'s events are " + List.of(kinds),
          () -> kinds(user).equals(List.of(kinds)));
    } catch (AssertionError e) {
      List<String> answers = nodes.stream()
          .map(n -> n.host + ": " + (n.isAlive() ? presence(n, user) : "(exited)")).toList();
      throw new AssertionError(e.getMessage() + "; events: " + kinds(user) + "; presence: " + answers, e);
    }
  }

  /** The user's event kinds in {@code seq} order; fails if two events share a seq. */
  private List<String> kinds(String user) {
    List<PresenceEvent> mine = app.events(user).stream()
        .sorted(Comparator.comparingLong(PresenceEvent::seq)).toList();
    assertEquals(mine.size(), mine.stream().map(PresenceEvent::seq).distinct().count(),
        user + ": every seq once: " + mine);
    return mine.stream().map(e -> e.kind().name()).toList();
  }

  private WsClient connect(NodeProcess node, String user) {
    return cluster.connect(node, user);
  }

  private JsonNode presence(NodeProcess via, String user) {
    try {
      HttpResponse<String> answer = http.send(
          HttpRequest.newBuilder(api(via, "/v1/users/" + user + "/presence"))
              .header("Authorization", "Bearer " + KEY).timeout(Duration.ofSeconds(15)).build(),
          HttpResponse.BodyHandlers.ofString());
      return answer.statusCode() == 200 ? JSON.readTree(answer.body()) : null;
    } catch (java.io.IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Sends {@code json} to {@code user} through {@code via}'s API; returns {@code delivered}. */
  private int send(NodeProcess via, String user, String json) throws Exception {
    HttpResponse<String> answer = http.send(
        HttpRequest.newBuilder(api(via, "/v1/users/" + user + "/messages"))
            .header("Authorization", "Bearer " + KEY)
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, answer.statusCode(), answer.body());
    return JSON.readTree(answer.body()).get("delivered").asInt();
  }

  private static URI api(NodeProcess node, String path) {
    return URI.create("http://" + node.host + ":" + node.apiPort + path);
  }

  private static String name(NodeProcess node) {
    return node.host + ":" + node.clusterPort;
  }

  private void log(String what) {
    System.out.printf("PartitionIT +%ds: %s%n",
        Duration.ofNanos(System.nanoTime() - started).toSeconds(), what);
  }
}
