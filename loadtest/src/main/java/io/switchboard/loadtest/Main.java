package io.switchboard.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The load generator's command line (see {@code loadtest/README.md}):
 *
 * <pre>
 * java -jar loadtest/target/loadtest.jar SCENARIO [--server switchboard|socketio|both]
 *     [--tls | --tls-proxy] [--label NAME] [--repeat N] [--warmup SECONDS[@RATE]]
 *     [--api-connections N]
 *     [--nodes N] [--steps 5000,10000] [--users N] [--rates 500,1000] [--seconds S] [--clients N]
 *     [--storm-workers N] [--storm-warmup CLIENTS]
 *     [--connect-rate N] [--histograms] [--server-jvm "FLAGS"] [--edge netty|pekko] [--root DIR]
 * </pre>
 *
 * SCENARIO is capacity, throughput, latency (one rate: {@code --rates}), storm, cluster (throughput on
 * {@code --nodes}, default 3), slow-readers (clients that never read; {@code --message-bytes}), or plot
 * (the PNGs from the results files).
 */
public final class Main {
  /** The throughput and cluster rate ladder (sends/s): each until one is not held. */
  private static final String THROUGHPUT_RATES =
      "500,1000,1500,2000,2500,3000,3500,4000,5000,6000,8000,10000,12000,14000,16000";

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println(
          "usage: loadtest capacity|throughput|latency|storm|cluster|slow-readers|plot [options]");
      System.exit(2);
    }
    String scenario = args[0];
    Map<String, String> options = options(Arrays.copyOfRange(args, 1, args.length));
    Path root = Path.of(options.getOrDefault("root", ".")).toAbsolutePath().normalize();
    boolean tlsProxy = options.containsKey("tls-proxy");
    boolean tls = options.containsKey("tls") || tlsProxy;
    Servers.Options servers = Servers.Options.defaults(root, tls, tlsProxy);
    if (options.containsKey("label")) {
      servers = servers.withLabel(options.get("label"));
    }
    if (options.containsKey("server-jvm")) {
      // e.g. --server-jvm "-Xmx2g -XX:+UseG1GC" to compare collectors, or to add a flight recording
      servers = servers.withServerJvm(List.of(options.get("server-jvm").trim().split("\\s+")));
    }
    if (options.containsKey("edge")) {
      servers = servers.withEdge(options.get("edge")); // Switchboard's WebSocket edge (WSS_EDGE)
    }
    if (scenario.equals("plot")) {
      Plot.all(servers.results());
      return;
    }
    if (tls) {
      Certificates.ensure(servers.tlsDir());
    }
    Scenarios scenarios = new Scenarios(servers,
        options.containsKey("warmup") ? Scenarios.Warmup.parse(options.get("warmup")) : Scenarios.WARMUP,
        integer(options, "api-connections", Sender.CONNECTIONS_PER_NODE),
        options.containsKey("histograms"));
    List<Protocol> kinds =
        switch (options.getOrDefault("server", "both")) {
          case "both" -> List.of(Protocol.SOCKETIO, Protocol.SWITCHBOARD);
          default -> List.of(Protocol.parse(options.get("server")));
        };
    int repeat = integer(options, "repeat", 1);
    Map<Protocol, List<Map<String, Object>>> runs = new LinkedHashMap<>();
    // With --repeat the servers take turns (A B A B ...), so a slow minute of this shared machine
    // does not fall on one server only; each run is kept, and the median one is the result.
    for (int r = 1; r <= repeat; r++) {
      for (Protocol kind : kinds) {
        Map<String, Object> result = run(scenario, kind, scenarios, options, servers);
        runs.computeIfAbsent(kind, k -> new ArrayList<>()).add(result);
        scenarios.write(result, repeat > 1 ? "run" + r : "");
      }
    }
    if (repeat > 1) {
      for (List<Map<String, Object>> results : runs.values()) {
        scenarios.write(median(scenario, results), "");
      }
    }
    System.exit(0);
  }

  private static Map<String, Object> run(String scenario, Protocol kind, Scenarios scenarios,
      Map<String, String> options, Servers.Options servers) throws Exception {
    return switch (scenario) {
      case "capacity" -> scenarios.capacity(kind, integer(options, "nodes", 1),
          ints(options.getOrDefault("steps", "5000,10000,15000,19000")),
          integer(options, "connect-rate", 2000));
      case "throughput", "cluster" -> scenarios.throughput(scenario, kind,
          integer(options, "nodes", scenario.equals("cluster") ? 3 : 1),
          integer(options, "users", 1000),
          doubles(options.getOrDefault("rates", THROUGHPUT_RATES)),
          Double.parseDouble(options.getOrDefault("seconds", "10")));
      case "latency" -> scenarios.throughput("latency", kind, integer(options, "nodes", 1),
          integer(options, "users", 1000), new double[] {latencyRate(options, servers.results())},
          Double.parseDouble(options.getOrDefault("seconds", "30")));
      case "storm" -> scenarios.storm(kind, integer(options, "clients", 10_000),
          integer(options, "storm-workers", 4), integer(options, "storm-warmup", 0));
      case "slow-readers" -> scenarios.slowReaders(kind, integer(options, "clients", 1000),
          Double.parseDouble(options.getOrDefault("rates", "500")),
          integer(options, "message-bytes", 16_384),
          Double.parseDouble(options.getOrDefault("seconds", "60")));
      default -> throw new IllegalArgumentException("unknown scenario " + scenario);
    };
  }

  /**
   * The median of repeated runs by the scenario's headline (throughput, cluster: the highest rate held;
   * latency: p99; otherwise the first run), with every run's headline listed in {@code "runs"}.
   */
  private static Map<String, Object> median(String scenario, List<Map<String, Object>> results) {
    java.util.function.ToDoubleFunction<Map<String, Object>> headline =
        switch (scenario) {
          case "throughput", "cluster" -> r -> ((Number) r.get("highestHeldRate")).doubleValue();
          case "latency" -> r -> ((Number) steps(r).get(0).get("p99ms")).doubleValue();
          default -> r -> 0;
        };
    List<Map<String, Object>> sorted = new ArrayList<>(results);
    sorted.sort(java.util.Comparator.comparingDouble(headline));
    Map<String, Object> median = new LinkedHashMap<>(sorted.get((sorted.size() - 1) / 2));
    median.put("runs", results.stream().map(headline::applyAsDouble).toList());
    return median;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> steps(Map<String, Object> result) {
    return (List<Map<String, Object>>) result.get("steps");
  }

  /**
   * The latency scenario's rate: {@code --rates} when given, else half of Socket.IO's highest held rate
   * in {@code results/throughput-socketio.json}.
   */
  private static double latencyRate(Map<String, String> options, Path results) throws Exception {
    if (options.containsKey("rates")) {
      return Double.parseDouble(options.get("rates"));
    }
    // The throughput run of the same label (a pass's own figures) where there is one.
    Path peer = results.resolve("throughput-socketio.json");
    String label = options.get("label");
    if (label != null && Files.exists(results.resolve("throughput-socketio-" + label + ".json"))) {
      peer = results.resolve("throughput-socketio-" + label + ".json");
    }
    if (!Files.exists(peer)) {
      throw new IllegalArgumentException("latency needs --rates or a throughput run of socketio first");
    }
    JsonNode result = new ObjectMapper().readTree(peer.toFile());
    return result.path("highestHeldRate").asDouble() / 2;
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + args[i]);
      }
      String name = args[i].substring(2);
      if (name.equals("tls") || name.equals("tls-proxy") || name.equals("histograms")) {
        options.put(name, "true");
      } else if (i + 1 < args.length) {
        options.put(name, args[++i]);
      } else {
        throw new IllegalArgumentException("--" + name + " needs a value");
      }
    }
    return options;
  }

  private static int integer(Map<String, String> options, String name, int fallback) {
    return options.containsKey(name) ? Integer.parseInt(options.get(name)) : fallback;
  }

  private static int[] ints(String list) {
    return Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  private static double[] doubles(String list) {
    List<Double> values = new ArrayList<>();
    for (String value : list.split(",")) {
      values.add(Double.parseDouble(value));
    }
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
