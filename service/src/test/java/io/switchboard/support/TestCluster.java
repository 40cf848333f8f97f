package io.switchboard.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.switchboard.Switchboard;
import io.switchboard.tls.DevCertificate;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Real Switchboard nodes in this JVM, on real sockets: wss with a dev certificate the test clients
 * trust, the internal API over HTTP, and Pekko remoting between the nodes.
 */
public final class TestCluster implements AutoCloseable {
  public static final String JWT_SECRET = "test-secret-test-secret-test-secret-0123456789";
  public static final String API_KEY = "test-api-key";
  /**
   * The WebSocket edge the nodes of this test run use ({@code -Dswitchboard.wss.edge=pekko}; the build
   * runs the tests once per edge).
   */
  public static final String EDGE = System.getProperty("switchboard.wss.edge", "netty");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path certDir;
  private final SSLContext tls;
  private final HttpClient http;
  private final List<Switchboard> nodes = new ArrayList<>();
  private final List<Integer> clusterPorts = new ArrayList<>();

  public TestCluster() {
    try {
      certDir = Files.createTempDirectory("switchboard-test-tls");
      Path[] files = DevCertificate.ensure(certDir);
      tls = trusting(files[0]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** An SSL context that trusts exactly the PEM certificate at {@code cert}. */
  public static SSLContext trusting(Path cert) {
    try (InputStream in = Files.newInputStream(cert)) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setCertificateEntry("switchboard-dev", CertificateFactory.getInstance("X.509")
          .generateCertificate(in));
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Ports handed out by this JVM: never again, as a node that exited may be restarted on its ports. */
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  /**
   * A port no server listens on, outside the kernel's ephemeral range: a node binds it seconds later,
   * and an ephemeral port (what {@code new ServerSocket(0)} gives) can be taken in between as the
   * source port of any outgoing connection on the box, e.g. one between the other nodes.
   */
  public static int freePort() {
    int[] ephemeral = ephemeralRange();
    // the wider of the two gaps: [10000, first ephemeral) or (last ephemeral, 65535]
    int low = ephemeral[0] - 10_000 >= 65_535 - ephemeral[1] ? 10_000 : ephemeral[1] + 1;
    int high = low == 10_000 ? ephemeral[0] : 65_536;
    if (high - low < 1_000) {
      throw new IllegalStateException("ephemeral ports " + ephemeral[0] + "-" + ephemeral[1]
          + " leave no room for test ports (see /proc/sys/net/ipv4/ip_local_port_range)");
    }
    int start = ThreadLocalRandom.current().nextInt(high - low);
    for (int i = 0; i < high - low; i++) {
      int port = low + (start + i) % (high - low);
      if (!HANDED_OUT.contains(port) && bindable(port) && HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port in " + low + "-" + (high - 1));
  }

  private static int[] ephemeralRange() {
    try {
      Path file = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
      // readAllLines, not readString: the JDK reads a /proc file's reported size (0) and one byte more.
      String[] range = Files.readAllLines(file).get(0).trim().split("\\s+");
      return new int[] {Integer.parseInt(range[0]), Integer.parseInt(range[1])};
    } catch (IOException e) {
      return new int[] {32_768, 60_999}; // Linux's default
    }
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Starts a node that joins the first node started (or itself, for the first). */
  public Switchboard startNode(Map<String, Object> overrides) {
    return startNode(overrides, null);
  }

  /** Starts a node whose client messages go to {@code handler}. */
  public Switchboard startNode(
      Map<String, Object> overrides, io.switchboard.handler.SocketHandler handler) {
    int port = freePort();
    Map<String, Object> config = new HashMap<>();
    config.put("switchboard.cluster.host", "127.0.0.1");
    config.put("switchboard.cluster.port", port);
    config.put(
        "switchboard.cluster.seed-nodes",
        "127.0.0.1:" + (clusterPorts.isEmpty() ? port : clusterPorts.get(0)));
    config.put("switchboard.wss.host", "127.0.0.1");
    config.put("switchboard.wss.port", 0);
    config.put("switchboard.wss.edge", EDGE);
    config.put("switchboard.api.host", "127.0.0.1");
    config.put("switchboard.api.port", 0);
    config.put("switchboard.api.keys", API_KEY);
    config.put("switchboard.auth.jwt-secret", JWT_SECRET);
    config.put("switchboard.tls.dev-cert-dir", certDir.toString());
    config.put("switchboard.shutdown.drain-timeout", "5s");
    config.put("pekko.cluster.jmx.multi-mbeans-in-same-jvm", "on");
    config.putAll(overrides);
    Switchboard node = Switchboard.start(ConfigFactory.parseMap(config), handler);
    nodes.add(node);
    clusterPorts.add(port);
    return node;
  }

  public Switchboard startNode() {
    return startNode(Map.of());
  }

  /** Waits until every running node is ready and sees {@code members} Up members. */
  public void awaitMembersUp(int members) {
    await(
        "all nodes ready with " + members + " members Up",
        () ->
            nodes.stream()
                .filter(n -> !n.system().whenTerminated().isCompleted())
                .allMatch(
                    n ->
                        n.isReady()
                            && upMembers(n) == members));
  }

  private static int upMembers(Switchboard node) {
    int up = 0;
    for (Member member : Cluster.get(node.system()).state().getMembers()) {
      if (member.status().equals(MemberStatus.up())) {
        up++;
      }
    }
    return up;
  }

  public SSLContext tls() {
    return tls;
  }

  public HttpClient http() {
    return http;
  }

  public String token(String userId) {
    return io.switchboard.auth.DevTokens.sign(JWT_SECRET, userId, Duration.ofHours(1));
  }

  public URI socketUri(Switchboard node) {
    return URI.create("wss://localhost:" + node.wssPort() + "/socket");
  }

  /** A device of {@code userId} connected to {@code node}, with its token in the Authorization header. */
  public WsClient connect(Switchboard node, String userId) {
    return WsClient.connect(
        http, socketUri(node), Map.of("Authorization", "Bearer " + token(userId)), List.of());
  }

  /** An answer of the internal API: status and JSON body. */
  public record ApiAnswer(int status, JsonNode body) {}

  public ApiAnswer get(Switchboard node, String path) {
    return call(node, HttpRequest.newBuilder(apiUri(node, path)).GET());
  }

  public ApiAnswer delete(Switchboard node, String path) {
    return call(node, HttpRequest.newBuilder(apiUri(node, path)).DELETE());
  }

  public ApiAnswer post(Switchboard node, String path, String contentType, byte[] body) {
    return call(
        node,
        HttpRequest.newBuilder(apiUri(node, path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  public ApiAnswer postJson(Switchboard node, String path, Object body) {
    try {
      return post(node, path, "application/json", JSON.writeValueAsBytes(body));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public URI apiUri(Switchboard node, String path) {
    return URI.create("http://127.0.0.1:" + node.apiPort() + path);
  }

  private ApiAnswer call(Switchboard node, HttpRequest.Builder request) {
    try {
      HttpResponse<byte[]> response =
          http.send(
              request.header("Authorization", "Bearer " + API_KEY)
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      JsonNode body = response.body().length == 0 ? null : JSON.readTree(response.body());
      return new ApiAnswer(response.statusCode(), body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Polls {@code condition} every 50 ms for up to 60 s; fails with {@code what} if it never holds. */
  public static void await(String what, BooleanSupplier condition) {
    await(what, Duration.ofSeconds(60), condition);
  }

  /**
   * Polls {@code condition} every 50 ms for up to {@code limit}; fails with {@code what} if it never
   * holds.
   */
  public static void await(String what, Duration limit, BooleanSupplier condition) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  public List<Switchboard> nodes() {
    return nodes;
  }

  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      Switchboard node = nodes.get(i);
      if (!node.system().whenTerminated().isCompleted()) {
        node.close();
      }
    }
  }
}
