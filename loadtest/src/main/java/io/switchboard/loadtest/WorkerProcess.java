package io.switchboard.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A forked {@link Worker}: the coordinator's handle on it. Each process stays below the 20,000 open
 * files a process may hold here, so a run of N connections forks ceil(N / 15,000) of them, each from its
 * own source address (127.0.0.2, .3, ...: about 28k ephemeral ports each).
 */
final class WorkerProcess implements AutoCloseable {
  static final int MAX_CONNECTIONS = 15_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final Writer commands;
  private final BlockingQueue<JsonNode> reports = new LinkedBlockingQueue<>();
  private volatile JsonNode status = JSON.createObjectNode();

  private WorkerProcess(Process process) {
    this.process = process;
    this.commands = process.outputWriter(StandardCharsets.UTF_8);
    Thread reader = new Thread(this::read, "worker-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Forks workers for {@code users} users (from index {@code first}) with {@code devices} each, split so
   * that no worker holds more than {@link #MAX_CONNECTIONS}; {@code perSecond} is the whole ramp's rate.
   * Worker w connects from 127.0.0.(2 + sourceIndex + w).
   */
  static List<WorkerProcess> fork(
      Protocol protocol, String url, String secret, int first, int users, int devices, int perSecond,
      int sourceIndex) throws IOException {
    return fork(protocol, url, secret, first, users, devices, perSecond, sourceIndex, true);
  }

  /** As above; {@code reading} false makes every client stop reading once it is open. */
  static List<WorkerProcess> fork(
      Protocol protocol, String url, String secret, int first, int users, int devices, int perSecond,
      int sourceIndex, boolean reading) throws IOException {
    return fork(protocol, url, secret, first, users, devices, perSecond, sourceIndex, reading,
        MAX_CONNECTIONS, 0);
  }

  /**
   * As above, with at most {@code maxPerWorker} connections per worker; with {@code perSecond} 0 every
   * worker connects all of its clients at once from {@code startAt} (a {@code System.nanoTime()}).
   */
  static List<WorkerProcess> fork(
      Protocol protocol, String url, String secret, int first, int users, int devices, int perSecond,
      int sourceIndex, boolean reading, int maxPerWorker, long startAt) throws IOException {
    int perWorker = Math.max(1, Math.min(maxPerWorker, MAX_CONNECTIONS) / devices);
    int count = (users + perWorker - 1) / perWorker;
    List<WorkerProcess> workers = new ArrayList<>();
    for (int w = 0; w < count; w++) {
      int from = first + w * perWorker;
      int n = Math.min(perWorker, first + users - from);
      int rate = perSecond <= 0 ? 0 : Math.max(1, perSecond / count);
      ProcessBuilder builder =
          new ProcessBuilder(
                  javaBin(), "-Xmx1g", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                  Worker.class.getName(), protocol.label(), url,
                  "127.0.0." + (2 + (sourceIndex + w) % 250), secret,
                  Integer.toString(from), Integer.toString(n), Integer.toString(devices),
                  Integer.toString(rate), reading ? "read" : "noread", Long.toString(startAt))
              .redirectError(ProcessBuilder.Redirect.INHERIT);
      workers.add(new WorkerProcess(builder.start()));
    }
    return workers;
  }

  private static String javaBin() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  private void read() {
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        JsonNode event = JSON.readTree(line);
        if (event.path("event").asText().equals("report")) {
          reports.add(event);
        } else {
          status = event;
        }
      }
    } catch (IOException e) {
      // the worker ended; its last status stays
    }
  }

  JsonNode status() {
    return status;
  }

  /** The worker's counts so far and its latency histogram since the previous report. */
  JsonNode report() throws IOException, InterruptedException {
    command("report");
    JsonNode report = reports.poll(60, TimeUnit.SECONDS);
    if (report == null) {
      throw new IOException("worker " + process.pid() + " did not report");
    }
    return report;
  }

  private void command(String command) throws IOException {
    commands.write(command + "\n");
    commands.flush();
  }

  @Override
  public void close() {
    try {
      command("quit");
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (IOException | InterruptedException e) {
      process.destroyForcibly();
    }
  }

  // --- the fleet, summed ---

  static int sum(List<WorkerProcess> workers, String field) {
    return workers.stream().mapToInt(w -> w.status().path(field).asInt()).sum();
  }

  /** Every worker's report, summed: counts, and the merged latency histogram. */
  static Report reportAll(List<WorkerProcess> workers) throws IOException, InterruptedException {
    Report total = new Report();
    for (WorkerProcess worker : workers) {
      JsonNode r = worker.report();
      total.open += r.path("open").asInt();
      total.failed += r.path("failed").asInt();
      total.closed += r.path("closed").asInt();
      total.distinct += r.path("distinct").asLong();
      total.duplicates += r.path("duplicates").asLong();
      total.lastOpenNanos = Math.max(total.lastOpenNanos, r.path("lastOpenNanos").asLong());
      long started = r.path("startNanos").asLong();
      total.startNanos = total.startNanos == 0 ? started : Math.min(total.startNanos, started);
      total.latency.add(Worker.decode(r.path("histogram").asText()));
      if (total.failure == null && !r.path("failure").isNull()) {
        total.failure = r.path("failure").asText();
      }
    }
    return total;
  }

  /** Summed worker reports; latency in microseconds. */
  static final class Report {
    int open;
    int failed;
    int closed;
    long distinct;
    long duplicates;
    long startNanos;
    long lastOpenNanos;
    String failure;
    final Histogram latency = new Histogram(60_000_000L, 3);
  }
}
