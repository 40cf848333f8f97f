package io.switchboard.support;

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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A Switchboard node as operators run it: {@code java -jar switchboard.jar}, configured by environment. */
public final class NodeProcess implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final String name;
  private final Map<String, String> env;
  private final List<String> prefix;
  /** The address the node listens at (cluster, wss and API), and tests reach it at. */
  public final String host;
  public final int wssPort;
  public final int apiPort;
  public final int clusterPort;

  private NodeProcess(
      String name, Map<String, String> env, List<String> prefix, String host, Process process,
      Path log, int wssPort, int apiPort, int clusterPort) {
    this.name = name;
    this.env = env;
    this.prefix = prefix;
    this.host = host;
    this.process = process;
    this.log = log;
    this.wssPort = wssPort;
    this.apiPort = apiPort;
    this.clusterPort = clusterPort;
  }

  /**
   * Starts the jar named by the {@code switchboard.jar} system property with {@code env} added; the
   * ports not given in {@code env} (CLUSTER_PORT, WSS_PORT, API_PORT) are free ones.
   */
  public static NodeProcess start(String name, Map<String, String> env) {
    return start(name, env, List.of(), "127.0.0.1");
  }

  /**
   * Starts the jar as {@link #start(String, Map)} does, but through {@code prefix} (e.g. {@code ip netns
   * exec NS}, which replaces itself with java, so the process is still the JVM) and listening at
   * {@code host} unless {@code env} sets CLUSTER_HOST, WSS_HOST or API_HOST.
   */
  public static NodeProcess start(
      String name, Map<String, String> env, List<String> prefix, String host) {
    String jar = System.getProperty("switchboard.jar", "target/switchboard.jar");
    int wss = port(env, "WSS_PORT");
    int api = port(env, "API_PORT");
    int cluster = port(env, "CLUSTER_PORT");
    try {
      Path log = Path.of("target", "it-" + name + ".log");
      if (Files.exists(log)) {
        Files.move(log, log.resolveSibling(log.getFileName() + "." + System.nanoTime()));
      }
      Files.createDirectories(log.getParent());
      List<String> command = new ArrayList<>(prefix);
      command.addAll(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar", jar));
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().put("CLUSTER_HOST", host);
      builder.environment().put("WSS_HOST", host);
      builder.environment().put("API_HOST", host);
      builder.environment().put("WSS_EDGE", TestCluster.EDGE);
      Map<String, String> fixed = new java.util.HashMap<>(env);
      fixed.put("CLUSTER_PORT", String.valueOf(cluster));
      fixed.put("WSS_PORT", String.valueOf(wss));
      fixed.put("API_PORT", String.valueOf(api));
      builder.environment().putAll(fixed);
      return new NodeProcess(
          name, Map.copyOf(fixed), List.copyOf(prefix), host, builder.start(), log, wss, api, cluster);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int port(Map<String, String> env, String variable) {
    return env.containsKey(variable) ? Integer.parseInt(env.get(variable)) : TestCluster.freePort();
  }

  /**
   * A new process of this node: same name, environment, ports, prefix and host (this one must have
   * exited).
   */
  public NodeProcess restart() {
    return start(name, env, prefix, host);
  }

  /**
   * Waits until {@code /health/ready} answers 200: up to 3 minutes, as a JVM starting on a busy
   * two-core machine beside other nodes can take more than one.
   */
  public void awaitReady(HttpClient http) {
    URI ready = URI.create("http://" + host + ":" + apiPort + "/health/ready");
    TestCluster.await(
        "node at " + host + ":" + apiPort + " is ready (log: " + log + ")",
        Duration.ofMinutes(3),
        () -> {
          if (!process.isAlive()) {
            throw new AssertionError("node exited early; log: " + output());
          }
          try {
            return http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
          } catch (IOException e) {
            return false;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        });
  }

  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** SIGKILL: the node dies without any goodbye. */
  public void kill() {
    process.destroyForcibly();
    waitForExit();
  }

  /** SIGTERM: Coordinated Shutdown runs; returns the exit code. */
  public int terminate() {
    process.destroy();
    return waitForExit();
  }

  /** Waits up to 60 s for the process to end by itself; returns its exit code. */
  public int awaitExit() {
    return waitForExit();
  }

  private int waitForExit() {
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("node did not exit within 60 s; log: " + log);
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      waitForExit();
    }
  }
}
