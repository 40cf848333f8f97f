package io.switchboard.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.switchboard.Switchboard;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.protocol.Signatures;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Presence webhooks against a real local receiver that fails, and a node that stops with events queued. */
class WebhookTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET = "webhook-secret";

  private HttpServer receiver;
  /** Every event the receiver accepted, in arrival order (duplicates included). */
  private final List<PresenceEvent> accepted = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
  private volatile int failFirst;
  private volatile boolean down;

  @BeforeEach
  void startReceiver() throws IOException {
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/events", this::receive);
    receiver.start();
  }

  @AfterEach
  void stopReceiver() {
    receiver.stop(0);
  }

  private void receive(HttpExchange exchange) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    long timestamp = Long.parseLong(exchange.getRequestHeaders().getFirst(Signatures.TIMESTAMP_HEADER));
    boolean signed =
        Signatures.verify(SECRET, timestamp, body,
            exchange.getRequestHeaders().getFirst(Signatures.SIGNATURE_HEADER));
    PresenceEvent event = JSON.readValue(body, PresenceEvent.class);
    int attempt =
        attempts.computeIfAbsent(event.id(), id -> new AtomicInteger()).incrementAndGet();
    boolean ok = signed && !down && attempt > failFirst
        && event.id().equals(exchange.getRequestHeaders().getFirst(WebhookDispatcher.EVENT_ID_HEADER));
    if (ok) {
      accepted.add(event);
    }
    exchange.sendResponseHeaders(ok ? 204 : 503, -1);
    exchange.close();
  }

  private Map<String, Object> webhookSettings() {
    return Map.of(
        "switchboard.events.webhook-url",
        "http://127.0.0.1:" + receiver.getAddress().getPort() + "/events",
        "switchboard.events.webhook-secret", SECRET,
        "switchboard.events.webhook-retry-initial", "50ms",
        "switchboard.events.webhook-retry-max", "200ms");
  }

  @Test
  void everyEventArrivesInOrderPerUserDespiteFailedAttempts() throws Exception {
    failFirst = 2;
    try (TestCluster cluster = new TestCluster()) {
      Switchboard node = cluster.startNode(webhookSettings());
      cluster.awaitMembersUp(1);
      List<PresenceEvent> decided = new CopyOnWriteArrayList<>();
      node.presenceListener(decided::add);
      for (int session = 0; session < 3; session++) {
        WsClient a = cluster.connect(node, "wanda");
        WsClient b = cluster.connect(node, "victor");
        TestCluster.await("both online", () -> cluster.get(node, "/v1/users/wanda/presence").body()
            .get("online").asBoolean() && cluster.get(node, "/v1/users/victor/presence").body()
            .get("online").asBoolean());
        a.close();
        b.close();
        TestCluster.await("both offline", () -> !cluster.get(node, "/v1/users/wanda/presence").body()
            .get("online").asBoolean() && !cluster.get(node, "/v1/users/victor/presence").body()
            .get("online").asBoolean());
      }
      TestCluster.await("12 events decided", () -> decided.size() == 12);
      TestCluster.await("every event accepted", () -> accepted.size() == 12);
      assertEquals(
          decided.stream().map(PresenceEvent::id).sorted().toList(),
          accepted.stream().map(PresenceEvent::id).sorted().toList());
      for (String user : List.of("wanda", "victor")) {
        List<PresenceEvent> theirs = accepted.stream().filter(e -> e.userId().equals(user)).toList();
        List<Long> seqs = theirs.stream().map(PresenceEvent::seq).toList();
        List<Long> sorted = new ArrayList<>(seqs);
        sorted.sort(Long::compare);
        assertEquals(sorted, seqs, user + "'s events arrive in order");
        for (int i = 0; i < theirs.size(); i++) {
          assertEquals(i % 2 == 0 ? PresenceEvent.Kind.online : PresenceEvent.Kind.offline,
              theirs.get(i).kind());
        }
      }
      attempts.values().forEach(n -> assertEquals(3, n.get(), "two failures, then delivered"));
    }
  }

  @Test
  void eventsStillQueuedWhenTheNodeStopsAreReportedByIdNotLostSilently() throws Exception {
    down = true;
    Logger logger = (Logger) LoggerFactory.getLogger(WebhookDispatcher.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try (TestCluster cluster = new TestCluster()) {
      Map<String, Object> settings = new LinkedHashMap<>(webhookSettings());
      settings.put("switchboard.shutdown.drain-timeout", "1s");
      Switchboard node = cluster.startNode(settings);
      cluster.awaitMembersUp(1);
      List<PresenceEvent> decided = new CopyOnWriteArrayList<>();
      node.presenceListener(decided::add);
      WsClient client = cluster.connect(node, "yolanda");
      TestCluster.await("online decided", () -> decided.size() == 1);
      node.close();
      assertEquals(1001, client.awaitClose().code());
      String report =
          logs.list.stream()
              .map(ILoggingEvent::getFormattedMessage)
              .filter(m -> m.contains("webhook events undelivered"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no report of undelivered events: " + logs.list));
      for (PresenceEvent event : decided) {
        assertTrue(report.contains(event.id()), "the report names " + event.id() + ": " + report);
      }
    } finally {
      logger.detachAppender(logs);
    }
  }
}
