package io.switchboard.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The servers under test, started as their users run them: Switchboard nodes ({@code java -jar
 * switchboard.jar}, seeds forming one cluster) or Socket.IO peer nodes ({@code node server.js}, a Redis
 * from Debian joining them). Each node is one process on loopback; memory is read the same way for both
 * (RSS from {@code /proc}), and live heap after a full GC each in its own runtime's way.
 */
final class Servers implements AutoCloseable {
  static final String SECRET = "loadtest-secret-loadtest-secret-loadtest-0123";
  static final String API_KEY = "loadtest-api-key";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** One running node: its process, the client URL and the API base. */
  record Node(Process process, URI socket, URI api) {}

  private final Protocol kind;
  private final List<Node> nodes = new ArrayList<>();
  private final List<Process> others = new ArrayList<>();
  /** HAProxy processes ending TLS, when the run asks for it. */
  private final List<Process> proxies = new ArrayList<>();
  static final int PROXIES_PER_NODE = 2;
  private static final int PROXY_MAXCONN = 9_900;
  private final Path logs;

  private Servers(Protocol kind, Path logs) {
    this.kind = kind;
    this.logs = logs;
  }

  /**
   * Starts {@code count} nodes of {@code kind}; {@code tls} makes their client port wss with the
   * certificate in {@code tlsDir} ({@code cert.pem}, {@code key.pem}).
   */
  static Servers start(Protocol kind, int count, Options options) throws Exception {
    Servers servers = new Servers(kind, options.results());
    Files.createDirectories(options.results());
    try {
      if (kind == Protocol.SWITCHBOARD) {
        servers.startSwitchboard(count, options);
      } else {
        servers.startSocketIo(count, options);
      }
      for (Node node : servers.nodes) {
        servers.awaitReady(node);
      }
      if (options.tlsProxy()) {
        servers.startProxies(options);
      }
      return servers;
    } catch (Exception e) {
      servers.close();
      throw e;
    }
  }

  private void startSwitchboard(int count, Options options) throws IOException {
    int[] clusterPorts = new int[count];
    List<String> seeds = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      clusterPorts[i] = freePort();
      seeds.add("127.0.0.1:" + clusterPorts[i]);
    }
    for (int i = 0; i < count; i++) {
      int wss = freePort();
      int api = freePort();
      Map<String, String> env = new HashMap<>();
      env.put("TLS", options.serverTls() ? "on" : "off");
      if (options.serverTls()) {
        env.put("TLS_CERT_FILE", options.tlsDir().resolve("cert.pem").toString());
        env.put("TLS_KEY_FILE", options.tlsDir().resolve("key.pem").toString());
      }
      env.put("WSS_HOST", "127.0.0.1");
      env.put("WSS_PORT", Integer.toString(wss));
      env.put("WSS_EDGE", options.edge());
      env.put("API_HOST", "127.0.0.1");
      env.put("API_PORT", Integer.toString(api));
      env.put("CLUSTER_HOST", "127.0.0.1");
      env.put("CLUSTER_PORT", Integer.toString(clusterPorts[i]));
      env.put("SEED_NODES", count == 1 ? "" : String.join(",", seeds));
      env.put("JWT_SECRET", SECRET);
      env.put("API_KEY", API_KEY);
      List<String> command = new ArrayList<>(List.of(javaBin()));
      command.addAll(options.serverJvm());
      command.addAll(List.of("-jar", options.switchboardJar().toString()));
      Process process = start(command, env, "switchboard-" + (i + 1));
      nodes.add(new Node(process,
          URI.create((options.serverTls() ? "wss" : "ws") + "://127.0.0.1:" + wss + "/socket"),
          URI.create("http://127.0.0.1:" + api)));
    }
  }

  private void startSocketIo(int count, Options options) throws IOException, InterruptedException {
    String redis = null;
    if (count > 1) {
      int port = freePort();
      others.add(start(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
          "--save", "", "--appendonly", "no"), Map.of(), "redis"));
      redis = "redis://127.0.0.1:" + port;
      Thread.sleep(500);
    }
    for (int i = 0; i < count; i++) {
      int ws = freePort();
      int api = freePort();
      Map<String, String> env = new HashMap<>();
      env.put("HOST", "127.0.0.1");
      env.put("WS_PORT", Integer.toString(ws));
      env.put("API_PORT", Integer.toString(api));
      env.put("JWT_SECRET", SECRET);
      env.put("API_KEY", API_KEY);
      if (options.serverTls()) {
        env.put("TLS_CERT", options.tlsDir().resolve("cert.pem").toString());
        env.put("TLS_KEY", options.tlsDir().resolve("key.pem").toString());
      }
      if (redis != null) {
        env.put("REDIS_URL", redis);
      }
      Process process =
          start(List.of("node", "--expose-gc", options.peer().resolve("server.js").toString()), env,
              "socketio-" + (i + 1));
      nodes.add(new Node(process,
          URI.create((options.serverTls() ? "wss" : "ws") + "://127.0.0.1:" + ws),
          URI.create("http://127.0.0.1:" + api)));
    }
  }

  /**
   * HAProxy in front of each node, ending TLS (the same certificate) and passing plain ws on. Each proxied
   * connection costs HAProxy two sockets, so under the 20,000 open-file cap each node gets
   * {@value #PROXIES_PER_NODE} HAProxy processes sharing its port (SO_REUSEPORT; the kernel spreads the
   * connections).
   */
  private void startProxies(Options options) throws Exception {
    Path pem = options.tlsDir().resolve("combined.pem");
    Files.writeString(pem, Files.readString(options.tlsDir().resolve("cert.pem"))
        + Files.readString(options.tlsDir().resolve("key.pem")));
    for (int i = 0; i < nodes.size(); i++) {
      Node node = nodes.get(i);
      int port = freePort();
      Path config = logs.resolve("haproxy-" + (i + 1) + ".cfg");
      Files.writeString(config, String.join("\n",
          "global",
          "  maxconn " + PROXY_MAXCONN,
          "  tune.ssl.default-dh-param 2048",
          "defaults",
          "  mode http",
          "  timeout connect 5s",
          "  timeout client 120s",
          "  timeout server 120s",
          "  timeout tunnel 1h",
          "frontend wss",
          "  bind 127.0.0.1:" + port + " ssl crt " + pem,
          "  maxconn " + PROXY_MAXCONN,
          "  default_backend node",
          "backend node",
          "  server node 127.0.0.1:" + node.socket().getPort() + " maxconn " + PROXY_MAXCONN,
          ""));
      for (int p = 0; p < PROXIES_PER_NODE; p++) {
        Process proxy = start(List.of("haproxy", "-db", "-f", config.toString()), Map.of(),
            "haproxy-" + (i + 1) + "-" + (p + 1));
        proxies.add(proxy);
      }
      nodes.set(i, new Node(node.process(),
          URI.create("wss://127.0.0.1:" + port + node.socket().getRawPath()), node.api()));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (Node node : nodes) {
      while (!listening(node.socket().getPort())) {
        if (System.nanoTime() > deadline || proxies.stream().anyMatch(p -> !p.isAlive())) {
          throw new IOException("HAProxy did not start: see " + logs);
        }
        Thread.sleep(100);
      }
    }
  }

  private static boolean listening(int port) {
    try {
      new java.net.Socket("127.0.0.1", port).close();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private Process start(List<String> command, Map<String, String> env, String name) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(env);
    builder.redirectOutput(logs.resolve(name + ".log").toFile());
    return builder.start();
  }

  private void awaitReady(Node node) throws Exception {
    URI health = node.api().resolve(kind == Protocol.SWITCHBOARD ? "/health/ready" : "/health");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      if (!node.process().isAlive()) {
        throw new IOException("a " + kind.label() + " node exited at start: see " + logs);
      }
      try {
        if (HTTP.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IOException(kind.label() + " node not ready in 120 s: see " + logs);
  }

  List<Node> nodes() {
    return nodes;
  }

  List<URI> apis() {
    return nodes.stream().map(Node::api).toList();
  }

  /** Resident memory of every node process, in bytes. */
  long rss() throws IOException {
    long total = 0;
    for (Node node : nodes) {
      total += rss(node.process());
    }
    return total;
  }

  /**
   * CPU time (user + system) used so far by everything that serves the clients: the nodes, Redis for a
   * Socket.IO cluster and the TLS proxies, in nanoseconds. The kernel counts it in clock ticks.
   */
  long cpuNanos() throws IOException {
    long ticks = 0;
    for (Node node : nodes) {
      ticks += cpuTicks(node.process());
    }
    for (Process process : others) {
      ticks += cpuTicks(process);
    }
    for (Process proxy : proxies) {
      ticks += cpuTicks(proxy);
    }
    return ticks * 1_000_000_000L / CLOCK_TICKS_PER_SECOND;
  }

  /**
   * CPU time all cores spent working since boot, from {@code /proc/stat}'s first line ("cpu user nice
   * system idle iowait irq softirq steal ..."): user, nice, system, irq and softirq; not idle, iowait,
   * nor steal (the hypervisor's); guest time is inside user.
   */
  static long machineBusyNanos() throws IOException {
    String[] fields = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    long ticks = Long.parseLong(fields[1]) + Long.parseLong(fields[2]) + Long.parseLong(fields[3])
        + Long.parseLong(fields[6]) + Long.parseLong(fields[7]);
    return ticks * 1_000_000_000L / CLOCK_TICKS_PER_SECOND;
  }

  /** {@code sysconf(_SC_CLK_TCK)}: 100 on every Linux this runs on. */
  private static final long CLOCK_TICKS_PER_SECOND = 100;

  private static long cpuTicks(Process process) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
    // Fields after the command name (which is in parentheses and may hold spaces): utime is the 12th
    // of them, stime the 13th.
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  /** Resident memory of the TLS proxies, in bytes (0 without). */
  long proxyRss() throws IOException {
    long total = 0;
    for (Process proxy : proxies) {
      total += rss(proxy);
    }
    return total;
  }

  boolean proxied() {
    return !proxies.isEmpty();
  }

  private static long rss(Process process) throws IOException {
    Path status = Path.of("/proc", Long.toString(process.pid()), "status");
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return 0;
  }

  /** Live heap of every node after a full GC, in bytes (JVM: jcmd GC.run then /metrics; Node: /stats). */
  long liveHeap() throws Exception {
    long total = 0;
    for (Node node : nodes) {
      if (kind == Protocol.SWITCHBOARD) {
        jcmd(node, "GC.run", ProcessBuilder.Redirect.DISCARD);
        String metrics = get(node.api().resolve("/metrics"));
        for (String line : metrics.split("\n")) {
          if (line.startsWith("jvm_memory_used_bytes{area=\"heap\"")) {
            total += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          }
        }
      } else {
        JsonNode stats = JSON.readTree(get(node.api().resolve("/stats")));
        total += stats.path("heapUsed").asLong();
      }
    }
    return total;
  }

  /**
   * Every node's class histogram ({@code jcmd GC.class_histogram}, after a full GC), one after another
   * in {@code file}, each under a line naming its node: where the live heap goes.
   */
  void writeClassHistograms(Path file) throws Exception {
    Files.writeString(file, "");
    for (int n = 0; n < nodes.size(); n++) {
      Files.writeString(file, "# node " + (n + 1) + "\n", StandardOpenOption.APPEND);
      jcmd(nodes.get(n), "GC.class_histogram", ProcessBuilder.Redirect.appendTo(file.toFile()));
    }
  }

  /** Runs {@code jcmd PID command} on {@code node}'s JVM, its output to {@code output}; 60 s at most. */
  private static void jcmd(Node node, String command, ProcessBuilder.Redirect output)
      throws Exception {
    new ProcessBuilder("jcmd", Long.toString(node.process().pid()), command)
        .redirectErrorStream(true).redirectOutput(output).start()
        .waitFor(60, TimeUnit.SECONDS);
  }

  /** Client sockets open on every node, as the servers count them. */
  long serverConnections() throws Exception {
    long total = 0;
    for (Node node : nodes) {
      if (kind == Protocol.SWITCHBOARD) {
        total += (long) metric(node, "switchboard_connections ");
      } else {
        total += JSON.readTree(get(node.api().resolve("/stats"))).path("connections").asLong();
      }
    }
    return total;
  }

  /** Sockets Switchboard closed with 1013 (client too slow); Socket.IO has no such limit: 0. */
  long slowConsumerCloses() throws Exception {
    long total = 0;
    if (kind == Protocol.SWITCHBOARD) {
      for (Node node : nodes) {
        total += (long) metric(node, "switchboard_closes_total{code=\"1013\"");
      }
    }
    return total;
  }

  /** The value of the first Prometheus line of {@code node} that starts with {@code prefix}, or 0. */
  private static double metric(Node node, String prefix) throws Exception {
    for (String line : get(node.api().resolve("/metrics")).split("\n")) {
      if (line.startsWith(prefix)) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  /**
   * Which of the users {@code u<index>} in {@code pending} are online, as the first node's API says
   * (100 users per request); removes them from {@code pending}.
   */
  void removeOnline(BitSet pending) throws Exception {
    int[] users = pending.stream().toArray();
    for (int from = 0; from < users.length; from += 100) {
      StringBuilder body = new StringBuilder("{\"users\":[");
      for (int i = from; i < Math.min(users.length, from + 100); i++) {
        body.append(i == from ? "" : ",").append("\"u").append(users[i]).append('"');
      }
      body.append("]}");
      HttpRequest request = HttpRequest.newBuilder(nodes.get(0).api().resolve("/v1/presence"))
          .header("Authorization", "Bearer " + API_KEY)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
          .build();
      JsonNode answer = JSON.readTree(HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body());
      for (JsonNode user : answer.path("users")) {
        if (user.path("online").asBoolean()) {
          pending.clear(Integer.parseInt(user.path("userId").asText().substring(1)));
        }
      }
    }
  }

  private static String get(URI uri) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + API_KEY).build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
  }

  @Override
  public void close() {
    for (Node node : nodes) {
      node.process().destroy();
    }
    others.forEach(Process::destroy);
    proxies.forEach(Process::destroy);
    for (Node node : nodes) {
      try {
        if (!node.process().waitFor(20, TimeUnit.SECONDS)) {
          node.process().destroyForcibly();
        }
      } catch (InterruptedException e) {
        node.process().destroyForcibly();
      }
    }
    others.forEach(Process::destroyForcibly);
    proxies.forEach(Process::destroyForcibly);
  }

  /** Ports handed out by this process: the kernel may offer a closed one again before its server binds. */
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  /**
   * A port free now, not handed out before by this process (three nodes take nine), and below the
   * kernel's ephemeral range: its server binds it seconds later, and an ephemeral port can be taken in
   * between as the source port of any outgoing connection on the box.
   */
  static int freePort() throws IOException {
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    // readAllLines, not readString: the JDK reads a /proc file's reported size (0) and one byte more.
    String[] ephemeral = Files.readAllLines(range).get(0).trim().split("\\s+");
    int low = 10_000;
    int high = Integer.parseInt(ephemeral[0]);
    if (high - low < 1_000) {
      throw new IOException("ephemeral ports start at " + high + ": no room below for servers' ports");
    }
    int start = ThreadLocalRandom.current().nextInt(high - low);
    for (int i = 0; i < high - low; i++) {
      int port = low + (start + i) % (high - low);
      if (!HANDED_OUT.contains(port) && bindable(port) && HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IOException("no free port in " + low + "-" + (high - 1));
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String javaBin() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  /**
   * Where things are and how servers run. {@code tls}: clients use wss; {@code tlsProxy}: the servers
   * speak plain ws and HAProxy ends TLS in front of each node. {@code label} is added to the results'
   * file names (e.g. a run with another collector). {@code edge}: Switchboard's WebSocket edge
   * ({@code WSS_EDGE}: netty or pekko).
   */
  record Options(
      Path switchboardJar,
      Path peer,
      Path results,
      boolean tls,
      boolean tlsProxy,
      Path tlsDir,
      List<String> serverJvm,
      String label,
      String edge) {
    static Options defaults(Path root, boolean tls, boolean tlsProxy) {
      return new Options(
          root.resolve("service/target/switchboard.jar"),
          root.resolve("loadtest/peers/socketio"),
          root.resolve("loadtest/results"),
          tls || tlsProxy,
          tlsProxy,
          root.resolve("loadtest/target/tls"),
          List.of("-Xmx2g", "-XX:+UseSerialGC", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=20"),
          "",
          "netty");
    }

    /** TLS inside the server processes. */
    boolean serverTls() {
      return tls && !tlsProxy;
    }

    Options withServerJvm(List<String> flags) {
      return new Options(switchboardJar, peer, results, tls, tlsProxy, tlsDir, flags, label, edge);
    }

    Options withLabel(String name) {
      return new Options(switchboardJar, peer, results, tls, tlsProxy, tlsDir, serverJvm, name, edge);
    }

    Options withEdge(String name) {
      return new Options(switchboardJar, peer, results, tls, tlsProxy, tlsDir, serverJvm, label, name);
    }
  }
}
