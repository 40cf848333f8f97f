package io.switchboard.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.auth.DevTokens;
import io.switchboard.tls.DevCertificate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntFunction;

/**
 * Three real Switchboard node processes ({@link NodeProcess}) forming one cluster, as every process
 * test starts them: each lists all three as seed nodes (so any of them can be restarted and rejoin),
 * they share one JWT secret and one API key, and the test's HTTP client reaches their sockets and API.
 * {@link #onLoopback} serves wss with a dev certificate the client trusts; {@link #inNamespaces} puts
 * each node in a namespace of a {@link NamespaceNetwork}, serving plain ws. Started, it has waited
 * until every node is ready and lists all three members Up and reachable. Closing it kills the nodes.
 */
public final class ThreeNodeProcesses implements AutoCloseable {
  public static final String JWT_SECRET = "process-secret-process-secret-process-0123";
  public static final String API_KEY = "process-api-key";
  public static final int NODES = 3;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final NodeProcess[] nodes = new NodeProcess[NODES];
  private final HttpClient http;
  /** Whether the nodes serve wss (with a dev certificate, which names localhost, not 127.0.0.1). */
  private final boolean tls;

  private ThreeNodeProcesses(HttpClient http, boolean tls) {
    this.http = http;
    this.tls = tls;
  }

  /**
   * Nodes {@code name-a}, {@code name-b} and {@code name-c} on 127.0.0.1 with free ports, with
   * {@code env} added to each node's environment.
   */
  public static ThreeNodeProcesses onLoopback(String name, Map<String, String> env) {
    Path certDir;
    Path cert;
    try {
      certDir = Files.createTempDirectory("switchboard-" + name + "-tls");
      cert = DevCertificate.ensure(certDir)[0];
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    HttpClient http = HttpClient.newBuilder()
        .sslContext(TestCluster.trusting(cert))
        .connectTimeout(Duration.ofSeconds(10))
        .build();
    ThreeNodeProcesses cluster = new ThreeNodeProcesses(http, true);
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      ports.add(TestCluster.freePort());
    }
    String seeds = String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
    return cluster.start(i -> {
      Map<String, String> own = new HashMap<>(env);
      own.putAll(Map.of(
          "SEED_NODES", seeds,
          "CLUSTER_PORT", String.valueOf(ports.get(i)),
          "TLS_DEV_CERT_DIR", certDir.toString(),
          "JWT_SECRET", JWT_SECRET,
          "API_KEY", API_KEY));
      return NodeProcess.start(name + "-" + "abc".charAt(i), own);
    });
  }

  /**
   * Node {@code i} in {@code network}'s namespace {@code i}, at its address there, with the same
   * ports on every node (cluster 25520, ws 8443, API 8081), TLS off, and {@code env} added.
   */
  public static ThreeNodeProcesses inNamespaces(
      String name, NamespaceNetwork network, Map<String, String> env) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    ThreeNodeProcesses cluster = new ThreeNodeProcesses(http, false);
    List<String> addresses = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      addresses.add(network.address(i) + ":25520");
    }
    return cluster.start(i -> {
      Map<String, String> own = new HashMap<>(env);
      own.putAll(Map.of(
          "SEED_NODES", String.join(",", addresses),
          "CLUSTER_PORT", "25520",
          "WSS_PORT", "8443",
          "API_PORT", "8081",
          "TLS", "off",
          "JWT_SECRET", JWT_SECRET,
          "API_KEY", API_KEY));
      return NodeProcess.start(
          name + "-" + "abc".charAt(i), own, network.exec(i), network.address(i));
    });
  }

  private ThreeNodeProcesses start(IntFunction<NodeProcess> starter) {
    try {
      for (int i = 0; i < NODES; i++) {
        nodes[i] = starter.apply(i);
      }
      for (NodeProcess node : nodes) {
        node.awaitReady(http);
      }
      awaitMembers();
      return this;
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  public NodeProcess node(int i) {
    return nodes[i];
  }

  /** The three nodes, in order (a restarted node replaces its predecessor). */
  public List<NodeProcess> nodes() {
    return List.of(nodes);
  }

  /** The HTTP client that reaches the nodes' sockets and API (trusting their certificate). */
  public HttpClient http() {
    return http;
  }

  /**
   * Starts node {@code i} again (its process must have exited), with the same name, environment and
   * ports, and waits until it is ready.
   */
  public NodeProcess restart(int i) {
    nodes[i] = nodes[i].restart();
    nodes[i].awaitReady(http);
    return nodes[i];
  }

  /** A token of {@code user}, valid for two hours. */
  public String token(String user) {
    return DevTokens.sign(JWT_SECRET, user, Duration.ofHours(2));
  }

  /** The WebSocket endpoint of {@code node}, without a token. */
  public URI socketUri(NodeProcess node) {
    return URI.create(
        (tls ? "wss://localhost:" : "ws://" + node.host + ":") + node.wssPort + "/socket");
  }

  /** A device of {@code user} on {@code node}, its token in the query. */
  public WsClient connect(NodeProcess node, String user) {
    return WsClient.connect(
        http, URI.create(socketUri(node) + "?token=" + token(user)), Map.of(), List.of());
  }

  /** {@code path} of {@code node}'s internal API. */
  public static URI apiUri(NodeProcess node, String path) {
    return URI.create("http://" + node.host + ":" + node.apiPort + path);
  }

  /** A request to {@code node}'s API with the API key. */
  public static HttpRequest.Builder apiRequest(NodeProcess node, String path) {
    return HttpRequest.newBuilder(apiUri(node, path)).header("Authorization", "Bearer " + API_KEY);
  }

  /** The node's name in presence answers and in the member list: its cluster host:port. */
  public static String name(NodeProcess node) {
    return node.host + ":" + node.clusterPort;
  }

  /** Waits until every node lists all three members Up and reachable. */
  public void awaitMembers() {
    Set<String> all = new TreeSet<>();
    for (NodeProcess node : nodes) {
      all.add(name(node));
    }
    TestCluster.await("every node sees all " + NODES + " members up and reachable", () -> {
      for (NodeProcess node : nodes) {
        if (!upMembers(node).equals(all)) {
          return false;
        }
      }
      return true;
    });
  }

  /** Waits until the nodes other than {@code i} no longer list node {@code i} as a member. */
  public void awaitRemoved(int i) {
    String gone = name(nodes[i]);
    TestCluster.await("the surviving nodes removed node " + gone, () -> {
      for (int n = 0; n < NODES; n++) {
        if (n != i && upMembers(nodes[n]).contains(gone)) {
          return false;
        }
      }
      return true;
    });
  }

  /** The members {@code node} lists as Up and reachable (none if it does not answer). */
  public Set<String> upMembers(NodeProcess node) {
    try {
      HttpResponse<String> response = http.send(
          apiRequest(node, "/v1/cluster").timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      Set<String> up = new TreeSet<>();
      if (response.statusCode() == 200) {
        JSON.readTree(response.body()).get("members").forEach(m -> {
          if (m.get("status").asText().equals("up") && m.get("reachable").asBoolean()) {
            up.add(m.get("address").asText());
          }
        });
      }
      return up;
    } catch (IOException e) {
      return Set.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Set.of();
    }
  }

  @Override
  public void close() {
    for (NodeProcess node : nodes) {
      if (node != null) {
        node.close();
      }
    }
  }
}
