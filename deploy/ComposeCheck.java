import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The compose test's checks, run from the host against the cluster deploy/docker-compose.yml started:
 * real wss through HAProxy, the real internal API of each node, real docker kill/stop. Started by
 * deploy/compose-test.sh as {@code java -cp service/target/switchboard.jar deploy/ComposeCheck.java}
 * (Jackson comes from the jar); configured by COMPOSE (the compose command), JWT_SECRET, API_KEY and
 * CERT. Exits 0 when every check passed, 1 with the failed check otherwise.
 */
public final class ComposeCheck {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration LONG = Duration.ofSeconds(120);
  private static final Duration STABLE = Duration.ofSeconds(10);
  private static final int[] API_PORTS = {8081, 8082, 8083};
  private static final int[] NODE_WSS_PORTS = {8444, 8445, 8446};
  private static final int LB_PORT = 8443;

  private final List<String> compose;
  private final String jwtSecret;
  private final String apiKey;
  private final HttpClient http;
  private final EventLog events;

  private ComposeCheck(List<String> compose, String jwtSecret, String apiKey, SSLContext tls) {
    this.compose = compose;
    this.jwtSecret = jwtSecret;
    this.apiKey = apiKey;
    this.http =
        HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
    this.events = new EventLog();
  }

  public static void main(String[] args) throws Exception {
    ComposeCheck check =
        new ComposeCheck(
            List.of(System.getenv("COMPOSE").trim().split("\\s+")),
            System.getenv("JWT_SECRET"),
            System.getenv("API_KEY"),
            trusting(Path.of(System.getenv("CERT"))));
    try {
      check.run();
      System.out.println("compose-check: every check passed");
      System.exit(0);
    } catch (AssertionError | Exception e) {
      System.out.println("compose-check: FAILED: " + e.getMessage());
      e.printStackTrace(System.out);
      System.exit(1);
    }
  }

  private void run() throws Exception {
    awaitCluster(Set.of(1, 2, 3));
    ok("three nodes are members, up and reachable, as each node's API says");
    for (int node = 1; node <= 3; node++) {
      events.follow(node);
    }

    // A user with a device on node 1 and one on node 3; a send through node 2 reaches both.
    // (HAProxy routes to a node once two health checks passed: a client retries a 503 meanwhile.)
    Client aliceOn1 = connectWithRetry(NODE_WSS_PORTS[0], "alice");
    Client aliceOn3 = connectWithRetry(NODE_WSS_PORTS[2], "alice");
    await("alice has a connection on node1 and one on node3, through every node", () ->
        samePresenceEverywhere("alice", Set.of(1, 2, 3))
            && nodesOf(presence(1, "alice")).equals(List.of("node1:25520", "node3:25520")));
    ok("alice: wss devices on node1 and node3; the same presence through all three APIs");

    JsonNode sent = send(2, "alice", "{\"n\":1}");
    check(sent.get("delivered").asInt() == 2, "delivered 2 through node2, got " + sent);
    check(aliceOn1.next().equals("{\"n\":1}") && aliceOn3.next().equals("{\"n\":1}"), "both got n=1");
    send(2, "alice", "{\"n\":2}");
    check(aliceOn1.next().equals("{\"n\":2}") && aliceOn3.next().equals("{\"n\":2}"),
        "both got n=2 next (no duplicate of n=1)");
    ok("a send through node2's API: delivered 2, each device got it once");

    // docker kill of the node holding one device: that connection leaves presence, alice stays online.
    composeCommand("kill", "node1");
    await("alice's node1 connection left presence on node2 and node3", () ->
        samePresenceEverywhere("alice", Set.of(2, 3))
            && nodesOf(presence(2, "alice")).equals(List.of("node3:25520")));
    check(presence(2, "alice").get("online").asBoolean(), "alice still online");
    await("node1 is gone from the members of node2 and node3", () ->
        members(2).equals(Set.of("node2:25520", "node3:25520"))
            && members(3).equals(Set.of("node2:25520", "node3:25520")));
    check(events.of("alice").equals(List.of("online")), "alice: only [online], got " + events.of("alice"));
    JsonNode afterKill = send(3, "alice", "{\"n\":3}");
    check(afterKill.get("delivered").asInt() == 1, "delivered 1 after the kill, got " + afterKill);
    check(aliceOn3.next().equals("{\"n\":3}"), "node3 device got n=3");
    ok("docker kill node1: its connection left presence, alice stayed online with no offline event");

    composeCommand("start", "node1");
    awaitCluster(Set.of(1, 2, 3));
    events.follow(1);
    ok("node1 restarted and rejoined: three members up again");

    // docker stop of another node: graceful, 1001 to its clients; alice's last device goes -> offline.
    composeCommand("stop", "-t", "40", "node3");
    check(aliceOn3.awaitClose() == 1001, "node3's client got close code " + aliceOn3.closeCode);
    await("alice offline on node1 and node2", () ->
        !presence(1, "alice").get("online").asBoolean() && !presence(2, "alice").get("online").asBoolean());
    await("alice's offline event", () -> events.of("alice").equals(List.of("online", "offline")));
    ok("docker stop node3: its client got 1001; alice's last device gone -> exactly [online, offline]");

    composeCommand("start", "node3");
    awaitCluster(Set.of(1, 2, 3));
    events.follow(3);
    ok("node3 restarted and rejoined");

    // A client of the load balancer: its node is killed, it reconnects through the same address.
    Client bob = connectWithRetry(LB_PORT, "bob");
    await("bob is online", () -> presence(1, "bob").get("connections").size() == 1);
    String bobNode = nodesOf(presence(1, "bob")).get(0);
    int killed = Integer.parseInt(bobNode.substring(4, 5));
    composeCommand("kill", "node" + killed);
    bob.awaitClose();
    Client bobAgain = connectWithRetry(LB_PORT, "bob");
    Set<Integer> live = new TreeSet<>(Set.of(1, 2, 3));
    live.remove(killed);
    int apiNode = live.iterator().next();
    await("bob's new connection is on a live node, through every live node", () ->
        samePresenceEverywhere("bob", live)
            && presence(apiNode, "bob").get("connections").size() == 1
            && !nodesOf(presence(apiNode, "bob")).contains(bobNode));
    JsonNode toBob = send(apiNode, "bob", "{\"to\":\"bob\"}");
    check(toBob.get("delivered").asInt() == 1, "delivered 1 to bob, got " + toBob);
    check(bobAgain.next().equals("{\"to\":\"bob\"}"), "bob got it");
    check(alternates(events.of("bob")) && events.of("bob").get(events.of("bob").size() - 1).equals("online"),
        "bob's events alternate and end online: " + events.of("bob"));
    ok("client via the load balancer: " + bobNode + " killed, reconnected through :8443 to "
        + nodesOf(presence(apiNode, "bob")).get(0) + ", got a send (events " + events.of("bob") + ")");
    bobAgain.close();
    aliceOn1.close();
  }

  // --- cluster and API ---

  /**
   * Waits until every one of nodes lists exactly them as members, up and reachable, and keeps doing so
   * for STABLE: a node that just (re)started is busy compiling for a while, and a fault injected then
   * would test two-core CPU starvation (mutual unreachability, which Split Brain Resolver answers by
   * downing both sides of it) rather than the fault.
   */
  private void awaitCluster(Set<Integer> nodes) {
    Set<String> expected = new TreeSet<>();
    nodes.forEach(n -> expected.add("node" + n + ":25520"));
    Instant[] since = {null};
    await("members " + expected + " up and reachable on each of them for " + STABLE.toSeconds() + " s", () -> {
      for (int node : nodes) {
        boolean fine;
        try {
          fine = members(node).equals(expected) && ready(node);
        } catch (RuntimeException e) {
          fine = false;
        }
        if (!fine) {
          since[0] = null;
          return false;
        }
      }
      if (since[0] == null) {
        since[0] = Instant.now();
      }
      return Duration.between(since[0], Instant.now()).compareTo(STABLE) >= 0;
    });
  }

  /** The members that node sees up and reachable. */
  private Set<String> members(int node) {
    Set<String> up = new TreeSet<>();
    get(node, "/v1/cluster").get("members").forEach(member -> {
      if (member.get("status").asText().equals("up") && member.get("reachable").asBoolean()) {
        up.add(member.get("address").asText());
      }
    });
    return up;
  }

  private boolean ready(int node) {
    try {
      return http.send(request(node, "/health/ready").build(), HttpResponse.BodyHandlers.discarding())
          .statusCode() == 200;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private JsonNode presence(int node, String user) {
    return get(node, "/v1/users/" + user + "/presence");
  }

  private boolean samePresenceEverywhere(String user, Set<Integer> nodes) {
    Set<String> seen = new TreeSet<>();
    for (int node : nodes) {
      seen.add(presence(node, user).toString());
    }
    return seen.size() == 1;
  }

  private static List<String> nodesOf(JsonNode presence) {
    List<String> nodes = new ArrayList<>();
    presence.get("connections").forEach(c -> nodes.add(c.get("node").asText()));
    nodes.sort(null);
    return nodes;
  }

  private JsonNode send(int node, String user, String json) throws Exception {
    HttpResponse<String> response =
        http.send(
            request(node, "/v1/users/" + user + "/messages")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    check(response.statusCode() == 200, "send answered " + response.statusCode() + " " + response.body());
    return JSON.readTree(response.body());
  }

  private JsonNode get(int node, String path) {
    try {
      HttpResponse<String> response =
          http.send(request(node, path).build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(path + " on node" + node + ": " + response.statusCode());
      }
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new IllegalStateException(path + " on node" + node + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private HttpRequest.Builder request(int node, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + API_PORTS[node - 1] + path))
        .timeout(Duration.ofSeconds(15))
        .header("Authorization", "Bearer " + apiKey);
  }

  private void composeCommand(String... args) throws Exception {
    List<String> command = new ArrayList<>(compose);
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    check(process.waitFor(120, TimeUnit.SECONDS) && process.exitValue() == 0,
        String.join(" ", command) + " failed: " + output);
    System.out.println("compose-check: ran " + String.join(" ", args));
  }

  // --- presence events, as an app reads them: SSE from every node, deduplicated by event id ---

  private final class EventLog {
    private final Map<String, String> kindById = new LinkedHashMap<>();
    private final Map<String, List<String>> byUser = new LinkedHashMap<>();

    /**
     * Opens node's event stream (returns once the node answered it) and reads it in the background
     * until it ends (the node died); call again after a restart.
     */
    void follow(int node) {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + API_PORTS[node - 1] + "/v1/events"))
              .header("Authorization", "Bearer " + apiKey)
              .build();
      HttpResponse<InputStream> response;
      try {
        response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("event stream of node" + node + ": " + e, e);
      }
      check(response.statusCode() == 200, "event stream of node" + node + ": " + response.statusCode());
      Thread reader = new Thread(() -> {
        try (BufferedReader lines =
            new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = lines.readLine()) != null) {
            if (line.startsWith("data:") && !line.substring(5).isBlank()) {
              record(JSON.readTree(line.substring(5).trim()));
            }
          }
        } catch (IOException e) {
          // the node went away; its events also reached the other nodes' streams
        }
      }, "events-node" + node);
      reader.setDaemon(true);
      reader.start();
    }

    private synchronized void record(JsonNode event) {
      String id = event.get("id").asText();
      if (kindById.putIfAbsent(id, event.get("kind").asText()) == null) {
        byUser.computeIfAbsent(event.get("userId").asText(), u -> new ArrayList<>())
            .add(event.get("kind").asText());
      }
    }

    synchronized List<String> of(String user) {
      return List.copyOf(byUser.getOrDefault(user, List.of()));
    }
  }

  private static boolean alternates(List<String> kinds) {
    for (int i = 0; i < kinds.size(); i++) {
      if (!kinds.get(i).equals(i % 2 == 0 ? "online" : "offline")) {
        return false;
      }
    }
    return true;
  }

  // --- WebSocket clients ---

  private Client connect(int port, String user) throws Exception {
    Client client = new Client();
    http.newWebSocketBuilder()
        .header("Authorization", "Bearer " + token(user))
        .connectTimeout(Duration.ofSeconds(10))
        .buildAsync(URI.create("wss://localhost:" + port + "/socket"), client)
        .get(20, TimeUnit.SECONDS);
    return client;
  }

  private Client connectWithRetry(int port, String user) throws Exception {
    Instant deadline = Instant.now().plus(LONG);
    while (true) {
      try {
        return connect(port, user);
      } catch (Exception e) {
        if (Instant.now().isAfter(deadline)) {
          throw e;
        }
        System.out.println("compose-check: reconnect through :" + port + " failed (" + e + "), again");
        Thread.sleep(500);
      }
    }
  }

  private static final class Client implements WebSocket.Listener {
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;
    volatile Integer closeCode;

    @Override
    public void onOpen(WebSocket webSocket) {
      socket = webSocket;
      webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        messages.add(partial.toString());
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closeCode = statusCode;
      closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closeCode = 1006;
      closed.complete(1006);
    }

    String next() throws InterruptedException {
      String message = messages.poll(LONG.toSeconds(), TimeUnit.SECONDS);
      check(message != null, "no message within " + LONG);
      return message;
    }

    int awaitClose() throws Exception {
      return closed.get(LONG.toSeconds(), TimeUnit.SECONDS);
    }

    void close() {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
    }
  }

  private String token(String user) throws Exception {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    String claims = b64.encodeToString(
        ("{\"sub\":\"" + user + "\",\"exp\":" + (Instant.now().getEpochSecond() + 3600) + "}")
            .getBytes(StandardCharsets.UTF_8));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(jwtSecret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String signature =
        b64.encodeToString(mac.doFinal((header + "." + claims).getBytes(StandardCharsets.US_ASCII)));
    return header + "." + claims + "." + signature;
  }

  private static SSLContext trusting(Path cert) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream in = Files.newInputStream(cert)) {
      store.setCertificateEntry("dev", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  // --- waiting and checking ---

  private static void await(String what, BooleanSupplier condition) {
    Instant deadline = Instant.now().plus(LONG);
    RuntimeException last = null;
    while (Instant.now().isBefore(deadline)) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
        last = null;
      } catch (RuntimeException e) {
        last = e; // a node restarting answers nothing for a while
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError("timed out after " + LONG.toSeconds() + " s waiting for: " + what
        + (last == null ? "" : " (last error: " + last.getMessage() + ")"));
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError(what);
    }
  }

  private static void ok(String what) {
    System.out.println("compose-check: ok: " + what);
  }
}
