package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.support.NodeProcess;
import io.switchboard.support.TestCluster;
import io.switchboard.support.ThreeNodeProcesses;
import io.switchboard.support.WsClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The real jar, as operators run it: separate processes configured by environment variables, over real
 * wss and HTTP. Killed with SIGKILL and stopped with SIGTERM.
 */
class JarClusterIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = ThreeNodeProcesses.API_KEY;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private ThreeNodeProcesses cluster;

  @AfterEach
  void stopAll() {
    nodes.forEach(NodeProcess::close);
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Starts nodes a, b and c; returns an HTTP client that trusts their certificate. */
  private HttpClient startThreeNodes(String name) {
    cluster = ThreeNodeProcesses.onLoopback(name, Map.of());
    return cluster.http();
  }

  private String token(String user) {
    return cluster.token(user);
  }

  private static HttpClient http(SSLContext tls) {
    return HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
  }

  private static JsonNode api(HttpClient http, NodeProcess node, String method, String path, String body)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.apiPort + path))
            .header("Authorization", "Bearer " + KEY)
            .timeout(Duration.ofSeconds(30));
    if (body != null) {
      request.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private static Set<String> nodesOf(HttpClient http, NodeProcess via, String user) throws Exception {
    Set<String> result = new HashSet<>();
    api(http, via, "GET", "/v1/users/" + user + "/presence", null).get("connections")
        .forEach(c -> result.add(c.get("node").asText()));
    return result;
  }

  private static boolean quietly(java.util.concurrent.Callable<Boolean> check) {
    try {
      return check.call();
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void threeProcessesFormOneClusterThatSurvivesAKillAndAStop() throws Exception {
    HttpClient http = startThreeNodes("cluster");
    NodeProcess a = cluster.node(0);
    NodeProcess b = cluster.node(1);
    NodeProcess c = cluster.node(2);
    String token = token("ivy");
    WsClient onB = WsClient.connect(http, URI.create("wss://localhost:" + b.wssPort + "/socket"),
        Map.of("Authorization", "Bearer " + token), List.of());
    WsClient onC = WsClient.connect(http, URI.create("wss://localhost:" + c.wssPort + "/socket?token=" + token),
        Map.of(), List.of());
    String nodeB = "127.0.0.1:" + b.clusterPort;
    String nodeC = "127.0.0.1:" + c.clusterPort;
    TestCluster.await("ivy on b and c, seen from a",
        () -> quietly(() -> nodesOf(http, a, "ivy").equals(Set.of(nodeB, nodeC))));

    JsonNode sent = api(http, a, "POST", "/v1/users/ivy/messages", "{\"via\":\"a\"}");
    assertEquals(2, sent.get("delivered").asInt());
    assertEquals("{\"via\":\"a\"}", onB.nextText());
    assertEquals("{\"via\":\"a\"}", onC.nextText());

    // SIGKILL: c vanishes; once it is downed, its connection leaves presence and ivy stays online via b.
    c.kill();
    TestCluster.await("c's connection leaves presence",
        () -> quietly(() -> nodesOf(http, a, "ivy").equals(Set.of(nodeB))));
    JsonNode afterKill = api(http, a, "POST", "/v1/users/ivy/messages", "{\"n\":2}");
    assertEquals(1, afterKill.get("delivered").asInt());
    assertEquals("{\"n\":2}", onB.nextText());

    // SIGTERM: b closes its sockets with 1001 and leaves; the JVM exits.
    int exit = b.terminate();
    assertEquals(1001, onB.awaitClose().code());
    assertTrue(exit == 0 || exit == 143, "exit code " + exit);
    TestCluster.await("ivy is offline",
        () -> quietly(() -> nodesOf(http, a, "ivy").isEmpty()));
  }

  @Test
  void aDevNodeStartsWithNoSetUpAndPrintsAWorkingKeyAndToken() throws Exception {
    Path certDir = Files.createTempDirectory("switchboard-it-dev-tls");
    NodeProcess node = NodeProcess.start("dev", Map.of("TLS_DEV_CERT_DIR", certDir.toString()));
    nodes.add(node);
    HttpClient plain = HttpClient.newHttpClient();
    node.awaitReady(plain);
    TestCluster.await("the banner is printed", () -> node.output().contains("Send the demo user"));
    String output = node.output();
    String key = output.lines().filter(l -> l.startsWith("API key:")).findFirst().orElseThrow()
        .substring("API key:".length()).trim();
    String token = output.lines().filter(l -> l.startsWith("Token (demo")).findFirst().orElseThrow()
        .replaceAll("^.*:\\s+", "");
    assertTrue(output.contains(certDir.resolve("cert.pem").toString()),
        "the banner names the dev certificate");

    HttpClient http = http(TestCluster.trusting(certDir.resolve("cert.pem")));
    WsClient demo = WsClient.connect(http,
        URI.create("wss://localhost:" + node.wssPort + "/socket?token=" + token), Map.of(), List.of());
    HttpRequest send =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.apiPort + "/v1/users/demo/messages"))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"hello\":\"world\"}"))
            .build();
    TestCluster.await("the demo user gets the message",
        () -> quietly(() -> JSON.readTree(http.send(send, HttpResponse.BodyHandlers.ofString()).body())
            .get("delivered").asInt() == 1));
    assertEquals("{\"hello\":\"world\"}", demo.nextText());
  }

  /** Collects the presence events of GET /v1/events on {@code node}, in arrival order. */
  private static List<JsonNode> events(HttpClient http, NodeProcess node) throws Exception {
    List<JsonNode> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    HttpResponse<java.io.InputStream> stream =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.apiPort + "/v1/events"))
                .header("Authorization", "Bearer " + KEY).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, stream.statusCode());
    Thread reader = new Thread(() -> {
      try (java.io.BufferedReader lines = new java.io.BufferedReader(
          new java.io.InputStreamReader(stream.body(), java.nio.charset.StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null) {
          // An empty data line is the stream's heartbeat.
          if (line.startsWith("data:") && !line.substring(5).isBlank()) {
            events.add(JSON.readTree(line.substring(5).trim()));
          }
        }
      } catch (java.io.IOException e) {
        // the node went away at the end of the test
      }
    });
    reader.setDaemon(true);
    reader.start();
    return events;
  }

  private static List<String> kinds(List<JsonNode> events, String user) {
    return events.stream().filter(e -> e.get("userId").asText().equals(user))
        .map(e -> e.get("kind").asText()).toList();
  }

  @Test
  void aNodeKilledWithUsersEntitiesAndAllTheirConnectionsStillYieldsExactlyOneOfflineEach()
      throws Exception {
    HttpClient http = startThreeNodes("kill");
    NodeProcess a = cluster.node(0);
    NodeProcess b = cluster.node(1);
    NodeProcess c = cluster.node(2);
    List<JsonNode> events = events(http, a);

    // Twenty users with their only device on c: about a third of their entities live on c as well.
    List<String> users = java.util.stream.IntStream.range(0, 20).mapToObj(i -> "solo-" + i).toList();
    List<WsClient> devices = new ArrayList<>();
    for (String user : users) {
      devices.add(cluster.connect(c, user));
    }
    String both = token("both");
    devices.add(WsClient.connect(http, URI.create("wss://localhost:" + b.wssPort + "/socket?token=" + both),
        Map.of(), List.of()));
    devices.add(WsClient.connect(http, URI.create("wss://localhost:" + c.wssPort + "/socket?token=" + both),
        Map.of(), List.of()));
    TestCluster.await("every user online on a's event stream",
        () -> users.stream().allMatch(u -> kinds(events, u).equals(List.of("online")))
            && kinds(events, "both").equals(List.of("online")));

    c.kill();

    try {
      TestCluster.await("an offline for every user whose devices were all on c",
          () -> users.stream().allMatch(u -> kinds(events, u).size() >= 2));
    } catch (AssertionError e) {
      Map<String, List<String>> seen = new java.util.TreeMap<>();
      users.forEach(u -> seen.put(u, kinds(events, u)));
      throw new AssertionError(e.getMessage() + "; events per user: " + seen, e);
    }
    String nodeB = "127.0.0.1:" + b.clusterPort;
    TestCluster.await("both's device on c leaves presence",
        () -> quietly(() -> nodesOf(http, a, "both").equals(Set.of(nodeB))));
    // A marker event after everything else, so that a late duplicate would have shown by then.
    WsClient marker = cluster.connect(b, "marker");
    TestCluster.await("the marker is online", () -> kinds(events, "marker").equals(List.of("online")));
    for (String user : users) {
      assertEquals(List.of("online", "offline"), kinds(events, user), user);
    }
    assertEquals(List.of("online"), kinds(events, "both"), "no spurious offline/online for both");
    marker.close();
  }
}
