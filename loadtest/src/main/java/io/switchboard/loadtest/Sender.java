package io.switchboard.loadtest;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends to users through a server's HTTP API at a fixed arrival rate (open loop): send i is due at
 * {@code start + i / rate} whether or not earlier ones have been answered, and its payload carries that
 * due time, so a server (or a generator) that falls behind shows as latency, not as a slower rate. Like
 * a backend's pooled HTTP client it keeps at most {@link #CONNECTIONS_PER_NODE} requests in flight to
 * one node and queues the rest. A send that would exceed {@code maxInFlight} unanswered or queued
 * requests is skipped and counted: the rate was not held.
 */
final class Sender {
  /**
   * A backend's HTTP client keeps a bounded pool per host. The JDK's has no bound: when answers slow
   * down it opens a connection per waiting request, and each new connection costs the server far more
   * than a send on an open one (Pekko HTTP materializes a stream per connection).
   */
  static final int CONNECTIONS_PER_NODE = 64;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .executor(Executors.newFixedThreadPool(2, daemon()))
          .build();
  private final List<URI> apis;
  private final String apiKey;
  private final int users;
  private final int[] numbers;
  private final int maxInFlight;
  private final int connectionsPerNode;
  /** Filler added to each payload ({@code "p"}), to send messages of a given size. */
  private final String padding;

  /**
   * Sends to {@code users} users u0..; the users' devices are on the nodes in blocks (user i's on node
   * {@code i * nodes / users}), and a send to user i goes through the API of node
   * {@code (that + shift) % nodes}; each payload is padded to about {@code size} bytes (0: none).
   */
  Sender(List<URI> apis, String apiKey, int users, int maxInFlight, int size) {
    this(apis, apiKey, users, maxInFlight, size, CONNECTIONS_PER_NODE);
  }

  /** As above, with at most {@code connectionsPerNode} requests in flight to one node (0: no bound). */
  Sender(List<URI> apis, String apiKey, int users, int maxInFlight, int size, int connectionsPerNode) {
    this.connectionsPerNode = connectionsPerNode;
    this.apis = apis;
    this.apiKey = apiKey;
    this.users = users;
    this.numbers = new int[users];
    this.maxInFlight = maxInFlight;
    this.padding = size > 0 ? ",\"p\":\"" + "x".repeat(size) + "\"" : "";
  }

  /**
   * What one step sent: requests answered 200, other answers and failures (unanswered after 30 s
   * included), sends skipped for too many in flight, and how long the sending took.
   */
  record Sent(long ok, long errors, long skipped, double seconds, String firstError) {
    double rate() {
      return ok / seconds;
    }
  }

  /**
   * Sends at {@code rate} per second for {@code seconds}, round-robin over the users; {@code shift} 1
   * with several nodes sends every message through a node other than the one its user's devices are on.
   * At most {@code connectionsPerNode} requests are in flight to one node, as through a backend's pooled
   * HTTP client; a send due while all are busy waits for one (its latency still counts from its due
   * time), and one due while {@code maxInFlight} are sent or waiting is skipped.
   */
  Sent run(double rate, double seconds, int shift) throws InterruptedException {
    Step step = new Step();
    long skipped = 0;
    long start = System.nanoTime();
    long count = (long) (rate * seconds);
    double interval = 1e9 / rate;
    Pool[] pools = new Pool[apis.size()];
    for (int n = 0; n < pools.length; n++) {
      pools[n] = new Pool(step);
    }
    for (long i = 0; i < count; i++) {
      long due = start + (long) (i * interval);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      if (step.inFlight.get() >= maxInFlight) {
        skipped++;
        continue;
      }
      int user = (int) (i % users);
      int number = numbers[user]++;
      int node = (int) ((long) user * apis.size() / users);
      int target = (node + shift) % apis.size();
      URI api = apis.get(target).resolve("/v1/users/u" + user + "/messages");
      HttpRequest request =
          HttpRequest.newBuilder(api)
              .timeout(Duration.ofSeconds(30))
              .header("Authorization", "Bearer " + apiKey)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(
                  "{\"n\":" + number + ",\"t\":" + due + padding + "}"))
              .build();
      step.inFlight.incrementAndGet();
      pools[target].submit(request);
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (step.inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return new Sent(step.ok.get(), step.errors.get() + step.inFlight.get(), skipped, elapsed,
        step.firstError.get());
  }

  /** One step's counts. */
  private static final class Step {
    final AtomicLong ok = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    /** Sent and unanswered, or waiting for a connection. */
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicReference<String> firstError = new AtomicReference<>();
  }

  /** The requests to one node: at most {@code connectionsPerNode} in flight, the rest in order behind. */
  private final class Pool {
    private final Step step;
    private final ArrayDeque<HttpRequest> waiting = new ArrayDeque<>();
    private int busy;

    Pool(Step step) {
      this.step = step;
    }

    void submit(HttpRequest request) {
      synchronized (this) {
        if (connectionsPerNode > 0 && busy >= connectionsPerNode) {
          waiting.add(request);
          return;
        }
        busy++;
      }
      send(request);
    }

    private void send(HttpRequest request) {
      http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
          .whenComplete(
              (response, failure) -> {
                step.inFlight.decrementAndGet();
                if (failure == null && response.statusCode() == 200) {
                  step.ok.incrementAndGet();
                } else {
                  step.errors.incrementAndGet();
                  step.firstError.compareAndSet(
                      null, failure != null ? failure.toString() : "HTTP " + response.statusCode());
                }
                HttpRequest next;
                synchronized (this) {
                  next = waiting.poll();
                  if (next == null) {
                    busy--;
                  }
                }
                if (next != null) {
                  send(next);
                }
              });
    }
  }

  private static ThreadFactory daemon() {
    return runnable -> {
      Thread thread = new Thread(runnable, "sender");
      thread.setDaemon(true);
      return thread;
    };
  }
}
