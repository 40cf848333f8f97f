package io.switchboard.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The benchmark scenarios, each run against one kind of server and written to
 * {@code results/<scenario>-<server>[-tls|-tlsproxy][-label].json}. Progress goes to stdout every second.
 */
final class Scenarios {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  /** A rate step is held when p99 stays at or under this and nothing is lost or refused. */
  static final double P99_LIMIT_MS = 50;
  /** The default warm-up: 15 s at the first rate. */
  static final Warmup WARMUP = new Warmup(15, 0);
  /** How long a capacity step waits for its users to come online before it stops the scenario. */
  static final int ONLINE_LIMIT_SECONDS = 300;

  private final Servers.Options options;
  private final Warmup warmup;
  /** Requests in flight per node at most in the throughput scenarios (0: no bound). */
  private final int apiConnections;
  /** Whether each capacity step also writes every node's class histogram (Switchboard only). */
  private final boolean histograms;

  Scenarios(Servers.Options options) {
    this(options, WARMUP, Sender.CONNECTIONS_PER_NODE, false);
  }

  Scenarios(Servers.Options options, Warmup warmup, int apiConnections, boolean histograms) {
    this.options = options;
    this.warmup = warmup;
    this.apiConnections = apiConnections;
    this.histograms = histograms;
  }

  /**
   * Sends before the measured steps, checked but not timed, so that the JIT has compiled the send path;
   * {@code rate} 0 means the first measured rate.
   */
  record Warmup(double seconds, double rate) {
    /** {@code "SECONDS"} or {@code "SECONDS@RATE"}, as {@code --warmup} takes it. */
    static Warmup parse(String spec) {
      String[] parts = spec.split("@");
      return new Warmup(Double.parseDouble(parts[0]), parts.length > 1 ? Double.parseDouble(parts[1]) : 0);
    }
  }

  // --- 1. capacity -------------------------------------------------------------------------------

  /**
   * Idle authenticated connections in steps (one device per user, spread over the nodes), at
   * {@code perSecond} connects per second; after each step, after a full GC: RSS and live heap, and the
   * growth per connection since the empty server.
   */
  Map<String, Object> capacity(Protocol kind, int nodes, int[] steps, int perSecond) throws Exception {
    String name = nodes == 1 ? "capacity" : "capacity-" + nodes + "nodes";
    List<Map<String, Object>> rows = new ArrayList<>();
    List<WorkerProcess> workers = new ArrayList<>();
    try (Servers servers = Servers.start(kind, nodes, options)) {
      Thread.sleep(3000);
      long heap0 = servers.liveHeap();
      long rss0 = servers.rss();
      long proxy0 = servers.proxyRss();
      int opened = 0;
      for (int step : steps) {
        int adding = step - opened;
        long start = System.nanoTime();
        long cpuBefore = servers.cpuNanos();
        for (int n = 0; n < nodes; n++) {
          int from = opened + n * adding / nodes;
          int to = opened + (n + 1) * adding / nodes;
          workers.addAll(WorkerProcess.fork(kind, servers.nodes().get(n).socket().toString(),
              Servers.SECRET, from, to - from, 1, perSecond / nodes, workers.size()));
        }
        awaitOpen(kind.label() + " capacity " + step, workers, step, 300);
        double rampSeconds = (System.nanoTime() - start) / 1e9;
        // Open is not enough: an idle authenticated connection is one the server counts online (its
        // registration done), and memory is read only then.
        int online = awaitOnline(servers, step, ONLINE_LIMIT_SECONDS);
        double onlineSeconds = (System.nanoTime() - start) / 1e9;
        double cpuMicrosPerConnection = (servers.cpuNanos() - cpuBefore) / 1000.0 / adding;
        opened = step;
        Thread.sleep(3000);
        long heap = servers.liveHeap();
        long rss = servers.rss();
        if (histograms && kind == Protocol.SWITCHBOARD) {
          Files.createDirectories(options.results());
          Path file = options.results().resolve(
              resultName(name, kind.label(), "") + "-histogram-" + step + ".txt");
          servers.writeClassHistograms(file);
          System.out.printf("%s capacity: class histograms in %s%n", kind.label(), file);
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("connections", WorkerProcess.sum(workers, "open"));
        row.put("failed", WorkerProcess.sum(workers, "failed"));
        row.put("rssBytes", rss);
        row.put("heapBytes", heap);
        row.put("rssPerConnection", (rss - rss0) / step);
        row.put("heapPerConnection", (heap - heap0) / step);
        row.put("connectsPerSecond", adding / rampSeconds);
        row.put("online", online);
        row.put("allOnline", online == step); // false: the memory figures count unregistered connections
        row.put("onlinePerSecond", adding / onlineSeconds);
        // Opening and registering each connection of the step (and the online checks' queries).
        row.put("serverCpuMicrosPerConnection", cpuMicrosPerConnection);
        if (servers.proxied()) {
          long proxy = servers.proxyRss();
          row.put("proxyRssBytes", proxy);
          row.put("proxyRssPerConnection", (proxy - proxy0) / step);
          System.out.printf("%s capacity: HAProxy RSS %,d KB (%.1f KB/conn)%n",
              kind.label(), proxy / 1024, (proxy - proxy0) / 1024.0 / step);
        }
        rows.add(row);
        if (online < step) {
          // Memory read now would count connections that are not registered: stop at this step.
          System.out.printf("%s capacity: %,d open, only %,d online after %d s: stopping here%n",
              kind.label(), step, online, ONLINE_LIMIT_SECONDS);
          break;
        }
        System.out.printf(
            "%s capacity: %,d open and online, RSS %,d KB (%.1f KB/conn), heap %,d KB (%.1f KB/conn), "
                + "%.0f conn/s, %.0f online/s, server CPU %.0f µs/conn%n",
            kind.label(), step, rss / 1024, (rss - rss0) / 1024.0 / step, heap / 1024,
            (heap - heap0) / 1024.0 / step, adding / rampSeconds, adding / onlineSeconds,
            cpuMicrosPerConnection);
      }
      Map<String, Object> result = header(name, kind, nodes);
      result.put("baseline", Map.of("rssBytes", rss0, "heapBytes", heap0, "proxyRssBytes", proxy0));
      result.put("steps", rows);
      return result;
    } finally {
      workers.forEach(WorkerProcess::close);
    }
  }

  // --- 2, 3, 5. throughput and latency --------------------------------------------------------------

  /**
   * {@code users} users with two devices each (in blocks: user i's on node i * nodes / users), sends at
   * each rate in turn for {@code seconds}; stops after the first rate not held (p99 over 50 ms, or a
   * message lost, duplicated, refused or not sent in time). With several nodes every send goes through
   * the API of a node other than its user's devices'.
   */
  Map<String, Object> throughput(
      String name, Protocol kind, int nodes, int users, double[] rates, double seconds) throws Exception {
    List<Map<String, Object>> rows = new ArrayList<>();
    List<WorkerProcess> workers = new ArrayList<>();
    double highest = 0;
    try (Servers servers = Servers.start(kind, nodes, options)) {
      for (int n = 0; n < nodes; n++) {
        workers.addAll(forkSpread(kind, servers, n, nodes, users, workers.size()));
      }
      awaitOpen(kind.label() + " " + name, workers, users * 2, 300);
      awaitOnline(servers, users);
      Sender sender = new Sender(servers.apis(), Servers.API_KEY, users, 2000, 0, apiConnections);
      // Warm-up (JIT, connection pools); its messages are checked, not timed.
      double warmupRate = warmup.rate() > 0 ? warmup.rate() : rates[0];
      Sender.Sent warmupSent = sender.run(warmupRate, warmup.seconds(), nodes > 1 ? 1 : 0);
      awaitDistinct(workers, 2 * warmupSent.ok(), 10);
      WorkerProcess.Report warm = WorkerProcess.reportAll(workers);
      long warmupLost = 2 * warmupSent.ok() - warm.distinct;
      long distinctBefore = warm.distinct;
      long duplicatesBefore = warm.duplicates;
      for (double rate : rates) {
        Progress progress = Progress.start(kind.label() + " " + name + " @" + (int) rate + "/s", workers);
        Sender.Sent sent;
        long cpuBefore = servers.cpuNanos();
        long machineBefore = Servers.machineBusyNanos();
        long cpuAfter;
        long machineAfter;
        try {
          sent = sender.run(rate, seconds, nodes > 1 ? 1 : 0);
          awaitDistinct(workers, distinctBefore + 2 * sent.ok(), 10);
          cpuAfter = servers.cpuNanos();
          machineAfter = Servers.machineBusyNanos();
        } finally {
          progress.stop();
        }
        // The servers' CPU per accepted send: less noisy than p99, and what a saturated box divides
        // its cores by.
        double cpuMicrosPerSend = sent.ok() == 0 ? 0 : (cpuAfter - cpuBefore) / 1000.0 / sent.ok();
        // The rest of the machine's CPU per send, approximate: the generator (sender, workers) and
        // loopback TCP, which share this box's cores with the servers and so bound the rate either
        // server can show. It reads low (even below zero) when the hypervisor steals time.
        double otherMicrosPerSend = sent.ok() == 0 ? 0
            : ((machineAfter - machineBefore) - (cpuAfter - cpuBefore)) / 1000.0 / sent.ok();
        WorkerProcess.Report report = WorkerProcess.reportAll(workers);
        long got = report.distinct - distinctBefore;
        long lost = 2 * sent.ok() - got;
        long duplicates = report.duplicates - duplicatesBefore;
        distinctBefore = report.distinct;
        duplicatesBefore = report.duplicates;
        Histogram latency = report.latency;
        double p99 = latency.getValueAtPercentile(99) / 1000.0;
        boolean held = lost == 0 && duplicates == 0 && warmupLost == 0 && sent.errors() == 0
            && sent.skipped() == 0 && report.closed == 0 && p99 <= P99_LIMIT_MS;
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("rate", rate);
        row.put("sentPerSecond", sent.rate());
        row.put("sent", sent.ok());
        row.put("errors", sent.errors());
        row.put("firstError", sent.firstError());
        row.put("skipped", sent.skipped());
        row.put("expected", 2 * sent.ok());
        row.put("received", got);
        row.put("lost", lost);
        row.put("duplicates", duplicates);
        row.put("closed", report.closed);
        row.put("p50ms", latency.getValueAtPercentile(50) / 1000.0);
        row.put("p99ms", p99);
        row.put("p999ms", latency.getValueAtPercentile(99.9) / 1000.0);
        row.put("maxms", latency.getMaxValue() / 1000.0);
        row.put("serverCpuMicrosPerSend", cpuMicrosPerSend);
        row.put("otherCpuMicrosPerSend", otherMicrosPerSend);
        row.put("held", held);
        rows.add(row);
        System.out.printf("%s %s @%,.0f/s: sent %,d (%.0f/s), errors %d, skipped %d, lost %d, dup %d, "
                + "p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, server CPU %.0f µs/send, "
                + "rest of the machine %.0f µs/send -> %s%n",
            kind.label(), name, rate, sent.ok(), sent.rate(), sent.errors(), sent.skipped(), lost,
            duplicates, latency.getValueAtPercentile(50) / 1000.0, p99,
            latency.getValueAtPercentile(99.9) / 1000.0, cpuMicrosPerSend, otherMicrosPerSend,
            held ? "held" : "NOT held");
        if (!held) {
          break;
        }
        highest = rate;
      }
      Map<String, Object> result = header(name, kind, nodes);
      result.put("users", users);
      result.put("devicesPerUser", 2);
      result.put("stepSeconds", seconds);
      result.put("apiConnectionsPerNode", apiConnections);
      result.put("warmupSeconds", warmup.seconds());
      result.put("warmupRate", warmupRate);
      result.put("warmupLost", warmupLost);
      result.put("warmupDuplicates", warm.duplicates);
      result.put("highestHeldRate", highest);
      result.put("steps", rows);
      return result;
    } finally {
      workers.forEach(WorkerProcess::close);
    }
  }

  /** Workers for the devices (2 per user) of node {@code n}'s block of users. */
  private static List<WorkerProcess> forkSpread(
      Protocol kind, Servers servers, int n, int nodes, int users, int sourceIndex) throws IOException {
    int from = n * users / nodes;
    int to = (n + 1) * users / nodes;
    return WorkerProcess.fork(kind, servers.nodes().get(n).socket().toString(), Servers.SECRET, from,
        to - from, 2, 0, sourceIndex);
  }

  // --- 4. connect storm --------------------------------------------------------------------------

  /**
   * {@code clients} clients (one per user) all connecting at once, from {@code workerCount} generator
   * processes that start together (one process connects only about 700 per second here: it would
   * measure itself); time until all open, and all online. With {@code warmupClients} &gt; 0 a first
   * storm of that many other users connects and closes again before, so that the measured one meets a
   * node whose JIT has compiled the connect path (one that has run for a while, not one just started).
   */
  Map<String, Object> storm(Protocol kind, int clients, int workerCount, int warmupClients)
      throws Exception {
    List<WorkerProcess> workers = new ArrayList<>();
    try (Servers servers = Servers.start(kind, 1, options)) {
      String url = servers.nodes().get(0).socket().toString();
      int perWorker = (clients + workerCount - 1) / workerCount;
      if (warmupClients > 0) {
        // Users u<clients>.. from other source addresses; closed again, they go offline meanwhile.
        List<WorkerProcess> warm = WorkerProcess.fork(kind, url, Servers.SECRET, clients, warmupClients,
            1, 0, workerCount, true, perWorker, commonStart(workerCount));
        try {
          awaitOpen(kind.label() + " storm warm-up", warm, warmupClients, 300);
        } finally {
          warm.forEach(WorkerProcess::close);
        }
        Thread.sleep(15_000);
      }
      long cpuBefore = servers.cpuNanos();
      long start = commonStart(workerCount);
      workers.addAll(WorkerProcess.fork(kind, url, Servers.SECRET, 0, clients, 1, 0, 0, true, perWorker,
          start));
      TimeUnit.NANOSECONDS.sleep(Math.max(0, start - System.nanoTime()));
      // From the common start until all open: how busy the whole machine was, and the servers' part.
      long machineAtStart = Servers.machineBusyNanos();
      long serverAtStart = servers.cpuNanos();
      awaitOpen(kind.label() + " storm", workers, clients, 300);
      long machineStorm = Servers.machineBusyNanos() - machineAtStart;
      long serverStorm = servers.cpuNanos() - serverAtStart;
      long stormWall = System.nanoTime() - start;
      awaitOnline(servers, clients);
      long onlineAt = System.nanoTime();
      WorkerProcess.Report report = WorkerProcess.reportAll(workers);
      double openSeconds = (report.lastOpenNanos - report.startNanos) / 1e9;
      double onlineSeconds = (onlineAt - report.startNanos) / 1e9;
      Map<String, Object> result = header("storm", kind, 1);
      result.put("clients", clients);
      result.put("generatorProcesses", workers.size());
      result.put("failed", report.failed);
      result.put("allOpenSeconds", openSeconds);
      result.put("allOnlineSeconds", onlineSeconds);
      result.put("connectsPerSecond", clients / openSeconds);
      result.put("onlinePerSecond", clients / onlineSeconds);
      result.put("warmupClients", warmupClients);
      // From before the generators started until all online (the generators' idle start included).
      result.put("serverCpuMicrosPerConnection", (servers.cpuNanos() - cpuBefore) / 1000.0 / clients);
      result.put("machineCoresBusyUntilOpen", (double) machineStorm / stormWall);
      result.put("serverCoresUntilOpen", (double) serverStorm / stormWall);
      // Everything else the machine ran meanwhile: the generator processes, and the kernel's part of
      // the connections that /proc does not charge to a process (softirqs of loopback TCP).
      result.put("otherCpuMicrosPerConnection", (machineStorm - serverStorm) / 1000.0 / clients);
      System.out.printf(
          "%s storm: %,d clients open in %.2f s (%.0f/s), all online after %.2f s (%.0f/s), %.0f µs of"
              + " server CPU per connection; until open the machine used %.2f cores, the server %.2f%n",
          kind.label(), clients, openSeconds, clients / openSeconds, onlineSeconds, clients / onlineSeconds,
          result.get("serverCpuMicrosPerConnection"), result.get("machineCoresBusyUntilOpen"),
          result.get("serverCoresUntilOpen"));
      return result;
    } finally {
      workers.forEach(WorkerProcess::close);
    }
  }

  /** When {@code workers} storm workers forked now start together: time for each JVM to start and sign. */
  private static long commonStart(int workers) {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(3L + workers);
  }

  // --- slow readers (the hardening issue's "memory stays flat") ---------------------------------------

  /**
   * {@code clients} clients (one per user) that stop reading once open, sent {@code size}-byte messages
   * at {@code rate} for {@code seconds}; every 5 s: the server's RSS and live heap (after a full GC), its
   * open sockets and (Switchboard) the sockets it closed with 1013.
   */
  Map<String, Object> slowReaders(Protocol kind, int clients, double rate, int size, double seconds)
      throws Exception {
    List<WorkerProcess> workers = new ArrayList<>();
    List<Map<String, Object>> samples = new ArrayList<>();
    try (Servers servers = Servers.start(kind, 1, options)) {
      workers.addAll(WorkerProcess.fork(kind, servers.nodes().get(0).socket().toString(), Servers.SECRET,
          0, clients, 1, 0, 0, false));
      awaitOpen(kind.label() + " slow readers", workers, clients, 300);
      awaitOnline(servers, clients);
      Sender sender = new Sender(servers.apis(), Servers.API_KEY, clients, 2000, size);
      Sender.Sent[] sent = new Sender.Sent[1];
      Thread sending = new Thread(() -> {
        try {
          sent[0] = sender.run(rate, seconds, 0);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "slow-readers-sender");
      long start = System.nanoTime();
      samples.add(sample(servers, 0));
      sending.start();
      while (sending.isAlive()) {
        sending.join(5000);
        samples.add(sample(servers, (System.nanoTime() - start) / 1e9));
      }
      Map<String, Object> result = header("slow-readers", kind, 1);
      result.put("clients", clients);
      result.put("rate", rate);
      result.put("messageBytes", size);
      result.put("seconds", seconds);
      result.put("sent", sent[0] == null ? 0 : sent[0].ok());
      result.put("errors", sent[0] == null ? 0 : sent[0].errors());
      result.put("samples", samples);
      return result;
    } finally {
      workers.forEach(WorkerProcess::close);
    }
  }

  private static Map<String, Object> sample(Servers servers, double at) throws Exception {
    Map<String, Object> sample = new LinkedHashMap<>();
    sample.put("seconds", at);
    sample.put("heapBytes", servers.liveHeap());
    sample.put("rssBytes", servers.rss());
    sample.put("serverConnections", servers.serverConnections());
    sample.put("closed1013", servers.slowConsumerCloses());
    System.out.printf("  at %.0f s: RSS %,d KB, heap %,d KB, %,d sockets open, %,d closed with 1013%n", at,
        (long) sample.get("rssBytes") / 1024, (long) sample.get("heapBytes") / 1024,
        sample.get("serverConnections"), sample.get("closed1013"));
    return sample;
  }

  // --- plumbing ----------------------------------------------------------------------------------

  private Map<String, Object> header(String scenario, Protocol kind, int nodes) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("scenario", scenario);
    result.put("server", kind.label());
    result.put("nodes", nodes);
    result.put("tls", options.tlsProxy() ? "haproxy" : options.tls() ? "in-process" : "off");
    result.put("serverJvm", kind == Protocol.SWITCHBOARD ? options.serverJvm() : List.of("--expose-gc"));
    if (kind == Protocol.SWITCHBOARD) {
      result.put("edge", options.edge());
    }
    result.put("cores", Runtime.getRuntime().availableProcessors());
    result.put("java", System.getProperty("java.version"));
    return result;
  }

  /** Writes {@code result} to its file; {@code run} (e.g. "run2") is added to the name when not empty. */
  void write(Map<String, Object> result, String run) throws IOException {
    Files.createDirectories(options.results());
    Path file = options.results().resolve(
        resultName((String) result.get("scenario"), (String) result.get("server"), run) + ".json");
    JSON.writeValue(file.toFile(), result);
    System.out.println("wrote " + file);
  }

  /** A results file's name without its extension: scenario, server, TLS, label and run. */
  private String resultName(String scenario, String server, String run) {
    return scenario + "-" + server
        + (options.tlsProxy() ? "-tlsproxy" : options.tls() ? "-tls" : "")
        + (options.label().isEmpty() ? "" : "-" + options.label())
        + (run.isEmpty() ? "" : "-" + run);
  }

  private static void awaitOpen(String what, List<WorkerProcess> workers, int expected, int seconds)
      throws Exception {
    Progress progress = Progress.start(what, workers);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (WorkerProcess.sum(workers, "open") < expected) {
        int failed = WorkerProcess.sum(workers, "failed");
        if (failed > 0 && WorkerProcess.sum(workers, "open") + failed >= expected) {
          throw new IOException(what + ": " + failed + " connections failed; first: "
              + WorkerProcess.reportAll(workers).failure);
        }
        if (System.nanoTime() > deadline) {
          throw new IOException(what + ": only " + WorkerProcess.sum(workers, "open") + " of " + expected
              + " open after " + seconds + " s");
        }
        Thread.sleep(50);
      }
    } finally {
      progress.stop();
    }
  }

  private static void awaitOnline(Servers servers, int users) throws Exception {
    int online = awaitOnline(servers, users, 120);
    if (online < users) {
      throw new IOException("only " + online + " of " + users + " users online after 120 s");
    }
  }

  /**
   * Waits until users {@code u0} .. {@code u<users-1>} are all online, as the server's API says. Each
   * poll asks only about the users not seen online yet (an idle connection's user stays online), so
   * that the polling does not load the server it measures. Returns how many are online: all of them,
   * or fewer when {@code seconds} ran out.
   */
  private static int awaitOnline(Servers servers, int users, int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    BitSet pending = new BitSet(users);
    pending.set(0, users);
    while (true) {
      try {
        servers.removeOnline(pending);
      } catch (IOException e) {
        // A loaded node may drop a query's connection; ask again (until the deadline).
        System.out.println("  presence query failed, asking again: " + e);
      }
      if (pending.isEmpty() || System.nanoTime() > deadline) {
        return users - pending.cardinality();
      }
      Thread.sleep(pending.cardinality() > 2000 ? 1000 : 100);
    }
  }

  private static void awaitDistinct(List<WorkerProcess> workers, long expected, int seconds)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (WorkerProcess.sum(workers, "distinct") < expected && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    Thread.sleep(1000); // a status line is up to 1 s old; let the last ones (and any duplicates) land
  }

  /** Prints connections open, messages per second and failures every second while a step runs. */
  static final class Progress {
    private final Thread thread;

    private Progress(Thread thread) {
      this.thread = thread;
    }

    static Progress start(String what, List<WorkerProcess> workers) {
      Thread thread = new Thread(() -> {
        long last = WorkerProcess.sum(workers, "received");
        try {
          while (true) {
            Thread.sleep(1000);
            long received = WorkerProcess.sum(workers, "received");
            double p50 = worst(workers, "p50ms");
            double p99 = worst(workers, "p99ms");
            System.out.printf(
                "  %s: %,d open, %,d failed, %,d msgs/s received, last second p50 %.2f ms, p99 %.2f ms%n",
                what, WorkerProcess.sum(workers, "open"), WorkerProcess.sum(workers, "failed"),
                received - last, p50, p99);
            last = received;
          }
        } catch (InterruptedException e) {
          // stopped
        }
      }, "progress");
      thread.setDaemon(true);
      thread.start();
      return new Progress(thread);
    }

    void stop() {
      thread.interrupt();
    }

    private static double worst(List<WorkerProcess> workers, String field) {
      return workers.stream().mapToDouble(w -> w.status().path(field).asDouble()).max().orElse(0);
    }
  }
}
