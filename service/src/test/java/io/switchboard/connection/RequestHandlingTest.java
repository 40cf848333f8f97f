package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.connection.ConnectionActorTest.RecordingSocket;
import io.switchboard.handler.DataType;
import io.switchboard.handler.InboundFrame;
import io.switchboard.handler.SocketHandler;
import io.switchboard.handler.SocketRequest;
import io.switchboard.messaging.Messaging;
import io.switchboard.messaging.Recipients;
import io.switchboard.presence.ToConnection;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.CloseCodes;
import io.switchboard.support.TestCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Client messages through a {@link ConnectionActor} to the app's handler, and the answers back. */
@ExtendWith(TestKitJUnit5Extension.class)
class RequestHandlingTest {
  @JUnit5TestKit final ActorTestKit testKit = new JUnit5TestKitBuilder().build();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AuthenticatedUser ALICE = new AuthenticatedUser("alice", Map.of("sub", "alice"));

  /** Sends to users recorded, as the cluster would take them. */
  static final class RecordingMessaging implements Messaging {
    final BlockingQueue<String> sends = new LinkedBlockingQueue<>();

    @Override
    public CompletionStage<Integer> send(String userId, Object message) {
      sends.add(userId + ":" + OutboundMessage.of(message).text());
      return CompletableFuture.completedFuture(2);
    }

    @Override
    public Recipients to(Collection<String> userIds) {
      return message -> CompletableFuture.completedFuture(Map.of());
    }

    @Override
    public CompletionStage<Boolean> isOnline(String userId) {
      return CompletableFuture.completedFuture(true);
    }
  }

  private final RecordingMessaging messaging = new RecordingMessaging();

  private ActorRef<ToConnection> start(
      AuthenticatedUser user, RecordingSocket socket, SocketHandler handler, DataType type,
      Duration timeout, int maxInFlight, int maxQueued) {
    return testKit.spawn(
        ConnectionActor.create("c1", "node-a", user, socket,
            user == null ? null : testKit.createTestProbe(UserPresence.Command.class).getRef(),
            Duration.ofMinutes(1), new ConnectionRegistry(),
            new Handling(handler, type, timeout, maxInFlight, maxQueued, 0, 1, null, messaging)));
  }

  private ActorRef<ToConnection> start(RecordingSocket socket, SocketHandler handler) {
    return start(ALICE, socket, handler, DataType.JSON, Duration.ofSeconds(10), 16, 256);
  }

  private static void fromClient(ActorRef<ToConnection> connection, String text) {
    connection.tell(new ConnectionActor.FromClient(InboundFrame.text(text)));
  }

  private static JsonNode json(OutboundMessage message) throws Exception {
    return JSON.readTree(message.text());
  }

  @Test
  void theHandlerGetsConnectionDataRequestIdAndUserAndItsValueIsTheReply() throws Exception {
    BlockingQueue<SocketRequest> requests = new LinkedBlockingQueue<>();
    RecordingSocket socket = new RecordingSocket(100);
    ActorRef<ToConnection> connection =
        start(socket, (request, s) -> {
          requests.add(request);
          return CompletableFuture.completedFuture(Map.of("echo", request.data()));
        });
    fromClient(connection, "{\"n\": 1}");
    SocketRequest request = requests.poll(10, TimeUnit.SECONDS);
    assertEquals("c1", request.connection());
    assertEquals(JSON.readTree("{\"n\":1}"), request.data());
    assertEquals("alice", request.user().id());
    assertFalse(request.requestId().isEmpty());
    assertEquals(JSON.readTree("{\"echo\":{\"n\":1}}"), json(socket.next()));

    fromClient(connection, "{\"n\": 2}");
    assertTrue(!requests.poll(10, TimeUnit.SECONDS).requestId().equals(request.requestId()),
        "every request has its own id");
  }

  @Test
  void dataIsParsedJsonRawTextOrRawBytesAsConfigured() throws Exception {
    BlockingQueue<Object> data = new LinkedBlockingQueue<>();
    SocketHandler recording = (request, s) -> {
      data.add(request.data());
      return CompletableFuture.completedFuture(null);
    };
    RecordingSocket text = new RecordingSocket(10);
    fromClient(start(ALICE, text, recording, DataType.STRING, Duration.ofSeconds(10), 16, 256), "{not json");
    assertEquals("{not json", data.poll(10, TimeUnit.SECONDS));

    RecordingSocket binary = new RecordingSocket(10);
    ActorRef<ToConnection> bytes =
        start(ALICE, binary, recording, DataType.BINARY, Duration.ofSeconds(10), 16, 256);
    bytes.tell(new ConnectionActor.FromClient(InboundFrame.binary(new byte[] {1, 2})));
    assertArrayEquals(new byte[] {1, 2}, (byte[]) data.poll(10, TimeUnit.SECONDS));
    fromClient(bytes, "é");
    assertArrayEquals("é".getBytes(StandardCharsets.UTF_8), (byte[]) data.poll(10, TimeUnit.SECONDS));
  }

  @Test
  void aRequestEnvelopeGetsItsReplyOrErrorBackWithTheClientsId() throws Exception {
    RecordingSocket socket = new RecordingSocket(20);
    BlockingQueue<Object> data = new LinkedBlockingQueue<>();
    ActorRef<ToConnection> connection =
        start(socket, (request, s) -> {
          data.add(request.data());
          JsonNode body = (JsonNode) request.data();
          return switch (body.path("op").asText()) {
            case "echo" -> CompletableFuture.completedFuture(Map.of("echo", body));
            case "text" -> CompletableFuture.completedFuture("plain");
            case "bytes" -> CompletableFuture.completedFuture(new byte[] {1, 2});
            case "fail" -> CompletableFuture.failedFuture(new IllegalStateException("no such room"));
            case "twice" -> {
              s.reply("first");
              yield CompletableFuture.completedFuture("second");
            }
            default -> CompletableFuture.completedFuture(null);
          };
        });
    fromClient(connection, "{\"$switchboard\": \"request\", \"id\": 7, \"data\": {\"op\": \"echo\"}}");
    assertEquals(JSON.readTree("{\"op\":\"echo\"}"), data.poll(10, TimeUnit.SECONDS), "the handler gets data");
    assertEquals(JSON.readTree("{\"$switchboard\":\"reply\",\"id\":7,\"data\":{\"echo\":{\"op\":\"echo\"}}}"),
        json(socket.next()));
    fromClient(connection, "{\"$switchboard\": \"request\", \"id\": \"a\", \"data\": {\"op\": \"text\"}}");
    assertEquals(JSON.readTree("{\"$switchboard\":\"reply\",\"id\":\"a\",\"data\":\"plain\"}"), json(socket.next()));
    fromClient(connection, "{\"$switchboard\": \"request\", \"id\": 8, \"data\": {\"op\": \"bytes\"}}");
    assertEquals(JSON.readTree("{\"$switchboard\":\"reply\",\"id\":8,\"binary\":\"AQI=\"}"), json(socket.next()));
    fromClient(connection, "{\"$switchboard\": \"request\", \"id\": 9, \"data\": {\"op\": \"nothing\"}}");
    assertEquals(JSON.readTree("{\"$switchboard\":\"reply\",\"id\":9,\"data\":null}"), json(socket.next()));
    fromClient(connection, "{\"$switchboard\": \"request\", \"id\": 10, \"data\": {\"op\": \"fail\"}}");
    JsonNode failed = json(socket.next());
    assertEquals("reply", failed.get("$switchboard").asText());
    assertEquals(10, failed.get("id").asInt());
    assertEquals("no such room", failed.get("error").asText());
    assertFalse(failed.get("requestId").asText().isEmpty());
    // One reply per envelope: the handler's socket.reply() wins over its return value.
    fromClient(connection, "{\"$switchboard\": \"request\", \"id\": 11, \"data\": {\"op\": \"twice\"}}");
    assertEquals(JSON.readTree("{\"$switchboard\":\"reply\",\"id\":11,\"data\":\"first\"}"), json(socket.next()));
    // Without an id there is nothing to answer to: an error, and nothing reaches the handler.
    fromClient(connection, "{\"$switchboard\": \"request\", \"data\": {}}");
    assertEquals("a request needs an id (a string or a number)", json(socket.next()).get("error").asText());
    assertEquals(5, data.size(), "the five later requests reached the handler, the one without an id not");
    assertTrue(socket.sent.isEmpty(), "no second reply for id 11: " + socket.sent);
  }

  @Test
  void messagesBeyondTheRateLimitGetAnErrorAndDoNotReachTheHandler() throws Exception {
    List<Object> handled = new CopyOnWriteArrayList<>();
    RecordingSocket socket = new RecordingSocket(10);
    // A burst of 2 that refills once in ~17 minutes: the third to fifth messages are over the limit.
    ActorRef<ToConnection> connection =
        testKit.spawn(
            ConnectionActor.create("c1", "node-a", ALICE, socket,
                testKit.createTestProbe(UserPresence.Command.class).getRef(),
                Duration.ofMinutes(1), new ConnectionRegistry(),
                new Handling((request, s) -> {
                  handled.add(request.data());
                  return CompletableFuture.completedFuture("ok");
                }, DataType.JSON, Duration.ofSeconds(10), 16, 256, 0.001, 2, null, messaging)));
    for (int i = 0; i < 5; i++) {
      fromClient(connection, "{\"n\": " + i + "}");
    }
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      answers.add(socket.next().text());
    }
    assertEquals(2, answers.stream().filter("ok"::equals).count(), answers.toString());
    List<JsonNode> errors = new ArrayList<>();
    for (String answer : answers) {
      if (!answer.equals("ok")) {
        errors.add(JSON.readTree(answer));
      }
    }
    assertEquals(3, errors.size());
    for (JsonNode error : errors) {
      assertEquals("rate limit exceeded", error.get("error").asText());
      assertFalse(error.get("requestId").asText().isEmpty());
    }
    assertEquals(2, handled.size());
    assertFalse(socket.closedWith.isDone(), "the connection stays open");
  }

  @Test
  void aMessageThatIsNotJsonGetsAnErrorWithItsRequestIdAndTheConnectionStaysOpen() throws Exception {
    RecordingSocket socket = new RecordingSocket(10);
    ActorRef<ToConnection> connection =
        start(socket, (request, s) -> CompletableFuture.completedFuture("ok"));
    fromClient(connection, "{broken");
    JsonNode error = json(socket.next());
    assertEquals("invalid JSON", error.get("error").asText());
    assertFalse(error.get("requestId").asText().isEmpty());
    assertFalse(socket.closedWith.isDone());
    fromClient(connection, "{}");
    assertEquals("ok", socket.next().text());
  }

  @Test
  void aThrowingHandlerGivesTheClientItsMessageAsAnError() throws Exception {
    RecordingSocket socket = new RecordingSocket(10);
    ActorRef<ToConnection> connection =
        start(socket, (request, s) -> {
          throw new IllegalStateException("no such room");
        });
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger)
        org.slf4j.LoggerFactory.getLogger(ConnectionActor.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
        new ch.qos.logback.core.read.ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    JsonNode error;
    try {
      fromClient(connection, "{\"secret\": \"do not log me\"}");
      error = json(socket.next());
      assertEquals("no such room", error.get("error").asText());
      assertTrue(error.has("requestId"));
      // Logged with the connection's id, user and the request id; never the message itself.
      TestCluster.await("the failure is logged", () -> !logged.list.isEmpty());
    } finally {
      logger.detachAppender(logged);
    }
    ch.qos.logback.classic.spi.ILoggingEvent event = logged.list.get(0);
    assertEquals("c1", event.getMDCPropertyMap().get("connectionId"));
    assertEquals("alice", event.getMDCPropertyMap().get("userId"));
    assertTrue(event.getFormattedMessage().contains(error.get("requestId").asText()));
    assertFalse(event.getFormattedMessage().contains("do not log me"));

    RecordingSocket failing = new RecordingSocket(10);
    fromClient(start(failing, (request, s) ->
        CompletableFuture.failedFuture(new RuntimeException("async failure"))), "{}");
    assertEquals("async failure", json(failing.next()).get("error").asText());
  }

  @Test
  void aSlowHandlerTimesOutAndItsLateAnswerIsDropped() throws Exception {
    CompletableFuture<Object> slow = new CompletableFuture<>();
    List<String> ids = new CopyOnWriteArrayList<>();
    RecordingSocket socket = new RecordingSocket(10);
    ActorRef<ToConnection> connection =
        start(ALICE, socket, (request, s) -> {
          ids.add(request.requestId());
          return ids.size() == 1 ? slow : CompletableFuture.completedFuture("second");
        }, DataType.JSON, Duration.ofSeconds(1), 16, 256);
    fromClient(connection, "1");
    fromClient(connection, "2");
    JsonNode timeout = json(socket.next());
    assertEquals("timeout", timeout.get("error").asText());
    assertEquals(ids.get(0), timeout.get("requestId").asText());
    assertEquals("second", socket.next().text());
    slow.complete("late");
    fromClient(connection, "3");
    assertEquals("second", socket.next().text(), "the late answer never reached the client");
  }

  @Test
  void requestsOfOneConnectionReachTheHandlerInOrderOneAtATime() throws Exception {
    List<Integer> seen = new CopyOnWriteArrayList<>();
    int[] concurrent = {0};
    int[] maxConcurrent = {0};
    RecordingSocket socket = new RecordingSocket(2000);
    ActorRef<ToConnection> connection =
        start(ALICE, socket, (request, s) -> {
          synchronized (concurrent) {
            maxConcurrent[0] = Math.max(maxConcurrent[0], ++concurrent[0]);
          }
          seen.add(((JsonNode) request.data()).asInt());
          return CompletableFuture.supplyAsync(() -> {
            synchronized (concurrent) {
              concurrent[0]--;
            }
            return null;
          });
        }, DataType.JSON, Duration.ofSeconds(10), 2000, 2000);
    for (int i = 0; i < 1000; i++) {
      fromClient(connection, Integer.toString(i));
    }
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(30), () -> {
      assertEquals(1000, seen.size());
      return null;
    });
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      expected.add(i);
    }
    assertEquals(expected, seen);
    assertEquals(1, maxConcurrent[0]);
  }

  @Test
  void pastMaxInFlightTheSocketIsNotReadAndPastMaxQueuedItIsClosedWith1013() throws Exception {
    CompletableFuture<Object> never = new CompletableFuture<>();
    RecordingSocket socket = new RecordingSocket(100);
    ActorRef<ToConnection> connection =
        start(ALICE, socket, (request, s) -> never, DataType.JSON, Duration.ofSeconds(30), 4, 8);
    for (int i = 0; i < 3; i++) {
      fromClient(connection, "1");
    }
    fromClient(connection, "4");
    testKit.createTestProbe().awaitAssert(() -> {
      assertTrue(socket.paused.get(), "reading paused at 4 outstanding");
      return null;
    });
    for (int i = 0; i < 5; i++) {
      fromClient(connection, "5");
    }
    assertEquals(CloseCodes.TRY_AGAIN_LATER, socket.awaitClose());
    testKit.createTestProbe().expectTerminated(connection);
  }

  @Test
  void readingResumesWhenTheHandlerCatchesUp() {
    List<CompletableFuture<Object>> pending = new CopyOnWriteArrayList<>();
    RecordingSocket socket = new RecordingSocket(100);
    ActorRef<ToConnection> connection =
        start(ALICE, socket, (request, s) -> {
          CompletableFuture<Object> f = new CompletableFuture<>();
          pending.add(f);
          return f;
        }, DataType.JSON, Duration.ofSeconds(30), 4, 64);
    for (int i = 0; i < 4; i++) {
      fromClient(connection, "1");
    }
    testKit.createTestProbe().awaitAssert(() -> {
      assertTrue(socket.paused.get());
      return null;
    });
    for (int i = 0; i < 3; i++) {
      testKit.createTestProbe().awaitAssert(() -> {
        assertFalse(pending.isEmpty());
        return null;
      });
      pending.remove(0).complete(null);
    }
    testKit.createTestProbe().awaitAssert(() -> {
      assertFalse(socket.paused.get(), "reading resumed at 1 outstanding");
      return null;
    });
  }

  @Test
  void sendReachesAllDevicesOfAUserButOnlyThisConnectionWhenAnonymous() throws Exception {
    RecordingSocket socket = new RecordingSocket(10);
    fromClient(start(socket, (request, s) -> s.send("to all").thenApply(n -> "sent to " + n)), "{}");
    assertEquals("alice:to all", messaging.sends.poll(10, TimeUnit.SECONDS));
    assertEquals("sent to 2", socket.next().text());

    RecordingSocket anonymous = new RecordingSocket(10);
    fromClient(start(null, anonymous, (request, s) -> {
      s.send("only you");
      s.reply("and a reply");
      return CompletableFuture.completedFuture(null);
    }, DataType.JSON, Duration.ofSeconds(10), 16, 256), "{}");
    List<String> got = List.of(anonymous.next().text(), anonymous.next().text());
    assertTrue(got.containsAll(List.of("only you", "and a reply")), got.toString());
    assertTrue(messaging.sends.isEmpty(), "an anonymous send reaches no user");
  }
}
