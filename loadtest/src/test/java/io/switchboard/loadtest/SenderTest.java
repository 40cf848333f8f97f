package io.switchboard.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sender's pool: sends due while every connection to a node is busy wait for one instead of
 * opening more, and all of them are answered.
 */
class SenderTest {
  private HttpServer server;
  private ExecutorService handlers;
  private final AtomicInteger active = new AtomicInteger();
  private final AtomicInteger mostActive = new AtomicInteger();
  private final AtomicInteger answered = new AtomicInteger();

  @BeforeEach
  void slowServer() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    handlers = Executors.newFixedThreadPool(32);
    server.setExecutor(handlers);
    server.createContext("/", exchange -> {
      mostActive.accumulateAndGet(active.incrementAndGet(), Math::max);
      try {
        exchange.getRequestBody().readAllBytes();
        Thread.sleep(20); // slower than the sends arrive: they must queue in the sender
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        // No longer active before the answer goes out: once the client has it, it may send the next
        // request on this connection, and that one must not be counted beside this one.
        active.decrementAndGet();
      }
      answered.incrementAndGet();
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    handlers.shutdownNow();
  }

  @Test
  void sendsBeyondThePoolWaitForAConnectionAndAreAllAnswered() throws Exception {
    URI api = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    Sender sender = new Sender(List.of(api), "key", 10, 1000, 0, 4);

    Sender.Sent sent = sender.run(400, 1, 0);

    assertEquals(400, sent.ok(), "every send answered: " + sent);
    assertEquals(0, sent.errors(), sent.toString());
    assertEquals(0, sent.skipped(), sent.toString());
    assertEquals(400, answered.get());
    assertTrue(mostActive.get() <= 4, "at most 4 requests at once, saw " + mostActive.get());
    assertTrue(mostActive.get() >= 2, "the pool was used in parallel, saw " + mostActive.get());
  }
}
