package io.switchboard.api;

import static java.nio.charset.StandardCharsets.UTF_8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.switchboard.auth.ApiKeys;
import io.switchboard.config.SwitchboardSettings;
import io.switchboard.messaging.ClusterInfo;
import io.switchboard.messaging.Messaging;
import io.switchboard.messaging.Recipients;
import io.switchboard.messaging.UserConnections;
import io.switchboard.presence.PresenceEventHub;
import io.switchboard.protocol.ClusterView;
import io.switchboard.protocol.NodeStats;
import io.switchboard.protocol.Presence;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * The routes on their own, without a node: they depend only on {@link Messaging},
 * {@link UserConnections}, the event hub and {@link ClusterInfo}, so stand-ins answer for the cluster.
 */
@ExtendWith(TestKitJUnit5Extension.class)
class ApiRoutesTest {
  static {
    // Logging set up before the test kit's threads first log (else SLF4J warns that it replayed a call).
    LoggerFactory.getILoggerFactory();
  }

  @JUnit5TestKit final ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = "test-api-key";

  private final List<String> sentTo = new CopyOnWriteArrayList<>();
  private final List<String> closed = new CopyOnWriteArrayList<>();
  private volatile boolean ready;

  private final Messaging messaging =
      new Messaging() {
        @Override
        public CompletionStage<Integer> send(String userId, Object message) {
          sentTo.add(userId);
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
      };

  private final UserConnections users =
      new UserConnections() {
        @Override
        public CompletionStage<Presence> presence(String userId) {
          return CompletableFuture.completedFuture(new Presence(userId, false, false, List.of()));
        }

        @Override
        public CompletionStage<Integer> closeConnections(String userId, String reason) {
          closed.add(userId + ": " + reason);
          return CompletableFuture.completedFuture(3);
        }
      };

  private final ClusterInfo cluster =
      new ClusterInfo() {
        @Override
        public boolean isReady() {
          return ready;
        }

        @Override
        public ClusterView clusterView() {
          return new ClusterView("here:1", null, List.of());
        }

        @Override
        public CompletionStage<NodeStats> nodeStats() {
          return CompletableFuture.completedFuture(new NodeStats(List.of(), List.of()));
        }
      };

  private HttpResponse call(HttpRequest request) throws Exception {
    ApiRoutes routes =
        new ApiRoutes(
            messaging,
            users,
            new PresenceEventHub(),
            cluster,
            new ApiKeys(List.of(KEY)),
            SwitchboardSettings.from(ConfigFactory.load()).api(),
            testKit.system());
    return routes.route().handler(testKit.system()).apply(request).toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private JsonNode body(HttpResponse response) throws Exception {
    return JSON.readTree(
        response.entity().toStrict(10_000, testKit.system()).toCompletableFuture()
            .get(10, TimeUnit.SECONDS).getData().toArray());
  }

  private static HttpRequest withKey(HttpRequest request) {
    return request.addHeader(RawHeader.create("Authorization", "Bearer " + KEY));
  }

  @Test
  void readinessIsWhatClusterInfoSays() throws Exception {
    ready = false;
    HttpResponse notReady = call(HttpRequest.GET("/health/ready"));
    assertEquals(503, notReady.status().intValue());
    assertEquals("not_ready", body(notReady).get("code").asText());

    ready = true;
    HttpResponse isReady = call(HttpRequest.GET("/health/ready"));
    assertEquals(200, isReady.status().intValue());
    assertEquals("ready", body(isReady).get("status").asText());
  }

  @Test
  void aSendToOneUserAnswersWithWhatMessagingDelivered() throws Exception {
    HttpResponse response =
        call(
            withKey(
                HttpRequest.create("/v1/users/alice/messages")
                    .withMethod(HttpMethods.POST)
                    .withEntity(ContentTypes.APPLICATION_JSON, "{\"hello\":\"world\"}")));
    assertEquals(200, response.status().intValue());
    assertEquals(2, body(response).get("delivered").asInt());
    assertEquals(List.of("alice"), sentTo);
  }

  @Test
  void closingAUsersConnectionsAnswersWithHowManyClosed() throws Exception {
    HttpResponse response =
        call(withKey(HttpRequest.create("/v1/users/bob/connections").withMethod(HttpMethods.DELETE)));
    assertEquals(200, response.status().intValue());
    assertEquals(3, body(response).get("closed").asInt());
    assertEquals(List.of("bob: closed by the application"), closed);
  }

  /**
   * One bad request: what it is, and the answer it must get (status, code, the field at fault or null,
   * and a part of the reason).
   */
  record BadInput(
      String name,
      HttpRequest request,
      int status,
      String code,
      String field,
      String reason) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static HttpRequest post(String path, ContentType type, String body) {
    return withKey(
        HttpRequest.POST(path).withEntity(HttpEntities.create(type, body.getBytes(UTF_8))));
  }

  private static HttpRequest postJson(String path, String body) {
    return post(path, ContentTypes.APPLICATION_JSON, body);
  }

  private static BadInput bad(
      String name, HttpRequest request, int status, String code, String field, String reason) {
    return new BadInput(name, request, status, code, field, reason);
  }

  static Stream<BadInput> badInputs() {
    String hundredAndOne =
        IntStream.range(0, 101).mapToObj(i -> "\"u" + i + "\"").reduce((a, b) -> a + "," + b).get();
    String longId = "u".repeat(257);
    return Stream.of(
        // POST /v1/users/{userId}/messages
        bad("send: broken JSON", postJson("/v1/users/a/messages", "{\"broken\":"),
            400, "invalid_json", null, "line 1, column 11"),
        bad("send: empty JSON body", postJson("/v1/users/a/messages", ""),
            400, "invalid_json", null, "body is empty"),
        bad("send: JSON with trailing garbage", postJson("/v1/users/a/messages", "{} {}"),
            400, "invalid_json", null, "not valid JSON"),
        bad("send: image/png", post("/v1/users/a/messages", ContentTypes.create(
                org.apache.pekko.http.javadsl.model.MediaTypes.IMAGE_PNG), "x"),
            400, "unsupported_content_type", null, "application/json, text/plain"),
        bad("send: text that is not UTF-8", withKey(HttpRequest.POST("/v1/users/a/messages")
                .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8,
                    new byte[] {'a', (byte) 0xff}))),
            400, "invalid_message", null, "UTF-8"),
        bad("send: user id too long", postJson("/v1/users/" + longId + "/messages", "{}"),
            400, "invalid_user_id", null, "longer than 256"),
        bad("send: user id with a control character", postJson("/v1/users/a%01b/messages", "{}"),
            400, "invalid_user_id", null, "control characters"),
        bad("send: user id . ", postJson("/v1/users/%2E/messages", "{}"),
            400, "invalid_user_id", null, ". or .."),
        bad("send: user id not UTF-8", postJson("/v1/users/%ff/messages", "{}")
                .addHeader(RawHeader.create("Raw-Request-URI", "/v1/users/%ff/messages")),
            400, "invalid_user_id", null, "not valid UTF-8"),
        bad("send: empty user id", postJson("/v1/users//messages", "{}"),
            400, "invalid_user_id", null, "must not be empty"),
        bad("send: GET", withKey(HttpRequest.GET("/v1/users/a/messages")),
            405, "method_not_allowed", null, "POST"),
        bad("send: body too large", withKey(HttpRequest.POST("/v1/users/a/messages")
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM,
                    new byte[(1 << 20) + 1]))),
            413, "body_too_large", null, "larger than"),
        bad("send: no key", HttpRequest.POST("/v1/users/a/messages"),
            401, "unauthorized", null, "missing API key"),
        bad("send: wrong key", HttpRequest.POST("/v1/users/a/messages")
                .addHeader(RawHeader.create("Authorization", "Bearer nope")),
            403, "forbidden", null, "invalid API key"),
        // POST /v1/messages
        bad("many: not JSON type", post("/v1/messages", ContentTypes.TEXT_PLAIN_UTF8, "hi"),
            400, "unsupported_content_type", null, "application/json"),
        bad("many: an array body", postJson("/v1/messages", "[]"),
            400, "invalid_json", null, "must be a JSON object, got an array"),
        bad("many: unknown field", postJson("/v1/messages", "{\"to\":[\"a\"],\"mesage\":1}"),
            400, "invalid_json", "mesage", "unknown field \"mesage\""),
        bad("many: to twice", postJson("/v1/messages", "{\"to\":[\"a\"],\"to\":[\"b\"],\"text\":\"t\"}"),
            400, "invalid_json", null, "Duplicate field 'to'"),
        bad("many: no to", postJson("/v1/messages", "{\"text\":\"t\"}"),
            400, "invalid_recipients", "to", "got none"),
        bad("many: to is a string", postJson("/v1/messages", "{\"to\":\"a\",\"text\":\"t\"}"),
            400, "invalid_recipients", "to", "got a string"),
        bad("many: to is empty", postJson("/v1/messages", "{\"to\":[],\"text\":\"t\"}"),
            400, "invalid_recipients", "to", "got an empty array"),
        bad("many: to has a number and a null", postJson("/v1/messages", "{\"to\":[\"a\",1,null],\"text\":\"t\"}"),
            400, "invalid_recipients", "to[1]", "to[1] must be a string (a user id), got a number"),
        bad("many: to has a null", postJson("/v1/messages", "{\"to\":[\"a\",null],\"text\":\"t\"}"),
            400, "invalid_recipients", "to[1]", "got null"),
        bad("many: to has an empty id", postJson("/v1/messages", "{\"to\":[\"a\",\"\"],\"text\":\"t\"}"),
            400, "invalid_recipients", "to[1]", "to[1]: user id must not be empty"),
        bad("many: to has a lone surrogate", postJson("/v1/messages", "{\"to\":[\"\\ud800\"],\"text\":\"t\"}"),
            400, "invalid_recipients", "to[0]", "lone surrogate"),
        bad("many: 101 users", postJson("/v1/messages", "{\"to\":[" + hundredAndOne + "],\"text\":\"t\"}"),
            400, "invalid_recipients", "to", "at most 100 users per request, got 101"),
        bad("many: no message", postJson("/v1/messages", "{\"to\":[\"a\"]}"),
            400, "invalid_message", null, "got none"),
        bad("many: message is null", postJson("/v1/messages", "{\"to\":[\"a\"],\"message\":null}"),
            400, "invalid_message", null, "got none"),
        bad("many: text and binary", postJson("/v1/messages", "{\"to\":[\"a\"],\"text\":\"t\",\"binary\":\"AA==\"}"),
            400, "invalid_message", null, "got 2"),
        bad("many: text is a number", postJson("/v1/messages", "{\"to\":[\"a\"],\"text\":5}"),
            400, "invalid_message", "text", "text must be a string, got a number"),
        bad("many: binary is an object", postJson("/v1/messages", "{\"to\":[\"a\"],\"binary\":{}}"),
            400, "invalid_message", "binary", "got an object"),
        bad("many: binary not base64", postJson("/v1/messages", "{\"to\":[\"a\"],\"binary\":\"***\"}"),
            400, "invalid_message", "binary", "not valid base64"),
        bad("many: GET", withKey(HttpRequest.GET("/v1/messages")),
            405, "method_not_allowed", null, "POST"),
        // GET /v1/users/{userId}/presence
        bad("presence: user id too long", withKey(HttpRequest.GET("/v1/users/" + longId + "/presence")),
            400, "invalid_user_id", null, "longer than 256"),
        bad("presence: user id not UTF-8", withKey(HttpRequest.GET("/v1/users/%c3%28/presence"))
                .addHeader(RawHeader.create("Raw-Request-URI", "/v1/users/%c3%28/presence")),
            400, "invalid_user_id", null, "not valid UTF-8"),
        bad("presence: POST", postJson("/v1/users/a/presence", "{}"),
            405, "method_not_allowed", null, "GET"),
        // POST /v1/presence
        bad("presence many: users missing", postJson("/v1/presence", "{}"),
            400, "invalid_users", "users", "got none"),
        bad("presence many: users has a boolean", postJson("/v1/presence", "{\"users\":[true]}"),
            400, "invalid_users", "users[0]", "got a boolean"),
        bad("presence many: 101 users", postJson("/v1/presence", "{\"users\":[" + hundredAndOne + "]}"),
            400, "invalid_users", "users", "got 101"),
        bad("presence many: unknown field", postJson("/v1/presence", "{\"users\":[\"a\"],\"x\":1}"),
            400, "invalid_json", "x", "this route takes users"),
        bad("presence many: a number body", postJson("/v1/presence", "42"),
            400, "invalid_json", null, "got a number"),
        // DELETE /v1/users/{userId}/connections
        bad("close: user id not UTF-8", withKey(HttpRequest.DELETE("/v1/users/a%80/connections"))
                .addHeader(RawHeader.create("Raw-Request-URI", "/v1/users/a%80/connections")),
            400, "invalid_user_id", null, "not valid UTF-8"),
        bad("close: empty user id", withKey(HttpRequest.DELETE("/v1/users//connections")),
            400, "invalid_user_id", null, "must not be empty"),
        // the rest
        bad("no such route", withKey(HttpRequest.GET("/v1/nothing")),
            404, "not_found", null, "could not be found"),
        bad("events: POST", postJson("/v1/events", "{}"),
            405, "method_not_allowed", null, "GET"),
        bad("cluster: no key", HttpRequest.GET("/v1/cluster"),
            401, "unauthorized", null, "missing API key"),
        bad("metrics: wrong key", HttpRequest.GET("/metrics")
                .addHeader(RawHeader.create("Authorization", "Basic eDp5")),
            403, "forbidden", null, "invalid API key"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInputs")
  void badInputGetsItsStatusCodeFieldAndReason(BadInput bad) throws Exception {
    HttpResponse response = call(bad.request());
    assertEquals(bad.status(), response.status().intValue(), bad.name());
    assertEquals(ContentTypes.APPLICATION_JSON, response.entity().getContentType(), bad.name());
    JsonNode error = body(response);
    assertEquals(bad.code(), error.path("code").asText(), bad.name() + ": " + error);
    assertEquals(bad.field(), error.has("field") ? error.get("field").asText() : null, bad.name());
    String reason = error.path("error").asText();
    assertTrue(reason.contains(bad.reason()), bad.name() + ": reason " + reason);
    for (String leak : List.of("java.", "com.fasterxml", "jackson", "Cannot deserialize", "`")) {
      assertFalse(reason.contains(leak), bad.name() + ": reason names internals: " + reason);
    }
    assertTrue(sentTo.isEmpty() && closed.isEmpty(), bad.name() + ": nothing was sent or closed");
  }

  @Test
  void aUserIdWithValidEscapesIsAccepted() throws Exception {
    HttpResponse response =
        call(
            postJson("/v1/users/caf%C3%A9/messages", "{}")
                .addHeader(RawHeader.create("Raw-Request-URI", "/v1/users/caf%C3%A9/messages")));
    assertEquals(200, response.status().intValue());
    assertEquals("caf\u00e9", body(response).get("userId").asText());
    assertEquals(List.of("caf\u00e9"), sentTo);
  }
}
