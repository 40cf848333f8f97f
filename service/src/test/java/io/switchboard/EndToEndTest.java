package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.switchboard.auth.DevTokens;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.support.RawUpgrade;
import io.switchboard.support.TestCluster.ApiAnswer;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One real node in this JVM, driven over real wss and HTTP, as an app and its clients would. */
class EndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestCluster cluster;
  private static Switchboard node;

  @BeforeAll
  static void start() {
    cluster = new TestCluster();
    node = cluster.startNode();
    cluster.awaitMembersUp(1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static void awaitOnline(String user, int connections) {
    TestCluster.await(
        user + " has " + connections + " connections",
        () -> cluster.get(node, "/v1/users/" + user + "/presence").body()
            .get("connections").size() == connections);
  }

  @Test
  void everyDeviceOfAUserGetsJsonTextAndBinary() throws Exception {
    WsClient phone = cluster.connect(node, "alice");
    WsClient laptop =
        WsClient.connect(
            cluster.http(),
            java.net.URI.create(cluster.socketUri(node) + "?token=" + cluster.token("alice")),
            Map.of(),
            List.of());
    awaitOnline("alice", 2);

    ApiAnswer json =
        cluster.post(node, "/v1/users/alice/messages", "application/json",
            "{\"kind\": \"greeting\", \"n\": 1}".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, json.status());
    assertEquals(2, json.body().get("delivered").asInt());
    assertEquals("alice", json.body().get("userId").asText());
    for (WsClient device : List.of(phone, laptop)) {
      assertEquals(JSON.readTree("{\"kind\":\"greeting\",\"n\":1}"), JSON.readTree(device.nextText()));
    }

    ApiAnswer text =
        cluster.post(node, "/v1/users/alice/messages", "text/plain; charset=UTF-8",
            "plain words ✓".getBytes(StandardCharsets.UTF_8));
    assertEquals(2, text.body().get("delivered").asInt());
    assertEquals("plain words ✓", phone.nextText());
    assertEquals("plain words ✓", laptop.nextText());

    byte[] bytes = {0, 1, 2, (byte) 0xff, 42};
    ApiAnswer binary =
        cluster.post(node, "/v1/users/alice/messages", "application/octet-stream", bytes);
    assertEquals(2, binary.body().get("delivered").asInt());
    assertArrayEquals(bytes, phone.nextBinary());
    assertArrayEquals(bytes, laptop.nextBinary());

    phone.close();
    laptop.close();
  }

  @Test
  void aTokenOfferedAsSubprotocolIsAccepted() {
    WsClient device =
        WsClient.connect(
            cluster.http(),
            cluster.socketUri(node),
            Map.of(),
            List.of("switchboard", "bearer." + cluster.token("sub-user")));
    assertEquals("switchboard", device.socket().getSubprotocol());
    awaitOnline("sub-user", 1);
    assertEquals(1, cluster.postJson(node, "/v1/users/sub-user/messages", Map.of("a", 1)).body()
        .get("delivered").asInt());
    assertEquals("{\"a\":1}", device.nextText());
    device.close();
  }

  @Test
  void aSendToAnOfflineUserDeliversToNobody() {
    ApiAnswer answer = cluster.postJson(node, "/v1/users/nobody-here/messages", Map.of("x", 1));
    assertEquals(200, answer.status());
    assertEquals(0, answer.body().get("delivered").asInt());
  }

  @Test
  void aSendToManyUsersAnswersPerUserCountsAndRefuses101Users() {
    WsClient bob = cluster.connect(node, "bob");
    WsClient carol1 = cluster.connect(node, "carol");
    WsClient carol2 = cluster.connect(node, "carol");
    awaitOnline("bob", 1);
    awaitOnline("carol", 2);

    List<String> hundred = new ArrayList<>(List.of("bob", "carol"));
    IntStream.range(0, 98).forEach(i -> hundred.add("offline-" + i));
    ApiAnswer answer =
        cluster.postJson(node, "/v1/messages", Map.of("to", hundred, "message", Map.of("hi", true)));
    assertEquals(200, answer.status());
    assertEquals(3, answer.body().get("delivered").asInt());
    assertEquals(100, answer.body().get("results").size());
    assertEquals("bob", answer.body().get("results").get(0).get("userId").asText());
    assertEquals(1, answer.body().get("results").get(0).get("delivered").asInt());
    assertEquals(2, answer.body().get("results").get(1).get("delivered").asInt());
    assertEquals("{\"hi\":true}", bob.nextText());
    assertEquals("{\"hi\":true}", carol1.nextText());
    assertEquals("{\"hi\":true}", carol2.nextText());

    List<String> tooMany = new ArrayList<>(hundred);
    tooMany.add("one-more");
    ApiAnswer refused =
        cluster.postJson(node, "/v1/messages", Map.of("to", tooMany, "message", Map.of("hi", 1)));
    assertEquals(400, refused.status());
    assertEquals("invalid_recipients", refused.body().get("code").asText());

    ApiAnswer text = cluster.postJson(node, "/v1/messages", Map.of("to", List.of("bob"), "text", "t"));
    assertEquals(1, text.body().get("delivered").asInt());
    assertEquals("t", bob.nextText());

    // A user named twice is sent to once and listed once, at the first place it was named.
    ApiAnswer twice =
        cluster.postJson(node, "/v1/messages", Map.of("to", List.of("bob", "carol", "bob"), "text", "2"));
    assertEquals(3, twice.body().get("delivered").asInt());
    assertEquals(2, twice.body().get("results").size());
    assertEquals("bob", twice.body().get("results").get(0).get("userId").asText());
    assertEquals(1, twice.body().get("results").get(0).get("delivered").asInt());
    assertEquals("2", bob.nextText());
    assertEquals("2", carol1.nextText());
    assertEquals("2", carol2.nextText());
    ApiAnswer presenceTwice =
        cluster.postJson(node, "/v1/presence", Map.of("users", List.of("carol", "carol")));
    assertEquals(1, presenceTwice.body().get("users").size());
    // Then the next message is bob's next frame: the repeat above was not delivered twice.
    cluster.postJson(node, "/v1/messages", Map.of("to", List.of("bob"), "text", "3"));
    assertEquals("3", bob.nextText());
    ApiAnswer binary =
        cluster.postJson(node, "/v1/messages", Map.of("to", List.of("bob"), "binary", "AAEC"));
    assertEquals(1, binary.body().get("delivered").asInt());
    assertArrayEquals(new byte[] {0, 1, 2}, bob.nextBinary());

    List.of(bob, carol1, carol2).forEach(WsClient::close);
  }

  @Test
  void badTokensAreRefusedWith401AndAJsonBodyBeforeAnyConnectionExists() throws Exception {
    Instant now = Instant.now();
    String expired =
        DevTokens.sign(TestCluster.JWT_SECRET, new JWTClaimsSet.Builder().subject("eve")
            .expirationTime(Date.from(now.minusSeconds(3600))).build());
    String wrongSecret =
        DevTokens.sign("another-secret-another-secret-another-secret", "eve", Duration.ofHours(1));
    String algNone =
        new PlainJWT(new JWTClaimsSet.Builder().subject("eve")
            .expirationTime(Date.from(now.plusSeconds(3600))).build()).serialize();
    String hs512 = hs512("eve");
    String notYetValid =
        DevTokens.sign(TestCluster.JWT_SECRET, new JWTClaimsSet.Builder().subject("eve")
            .notBeforeTime(Date.from(now.plusSeconds(3600))).build());
    String noSubject =
        DevTokens.sign(TestCluster.JWT_SECRET, new JWTClaimsSet.Builder()
            .expirationTime(Date.from(now.plusSeconds(3600))).build());

    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("missing", null);
    cases.put("malformed", "not-a-jwt");
    cases.put("expired", expired);
    cases.put("wrongly signed", wrongSecret);
    cases.put("alg none", algNone);
    cases.put("HS512", hs512);
    cases.put("not yet valid", notYetValid);
    cases.put("no sub", noSubject);
    for (Map.Entry<String, String> c : cases.entrySet()) {
      Map<String, String> headers =
          c.getValue() == null ? Map.of() : Map.of("Authorization", "Bearer " + c.getValue());
      RawUpgrade.Answer answer = RawUpgrade.upgrade(cluster.tls(), node.wssPort(), "/socket", headers);
      assertEquals(401, answer.status(), c.getKey() + ": " + answer.headers());
      JsonNode body = JSON.readTree(answer.body());
      assertEquals("unauthorized", body.get("code").asText(), c.getKey());
      assertFalse(body.get("error").asText().isEmpty(), c.getKey());
    }
    RawUpgrade.Answer expiredInQuery =
        RawUpgrade.upgrade(cluster.tls(), node.wssPort(), "/socket?token=" + expired, Map.of());
    assertEquals(401, expiredInQuery.status());
    assertEquals("token expired", JSON.readTree(expiredInQuery.body()).get("error").asText());
    assertEquals(0, node.connectionCount(), "no connection actor was made for a refused upgrade");
  }

  private static String hs512(String user) throws JOSEException {
    SignedJWT jwt =
        new SignedJWT(new JWSHeader(JWSAlgorithm.HS512), new JWTClaimsSet.Builder().subject(user)
            .expirationTime(Date.from(Instant.now().plusSeconds(3600))).build());
    jwt.sign(new MACSigner((TestCluster.JWT_SECRET + TestCluster.JWT_SECRET)
        .getBytes(StandardCharsets.UTF_8)));
    return jwt.serialize();
  }

  @Test
  void nonWebSocketRequestsToTheSocketPathGet400AndOtherPaths404() throws Exception {
    RawUpgrade.Answer plainGet =
        RawUpgrade.exchange(cluster.tls(), node.wssPort(),
            "GET /socket HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assertEquals(400, plainGet.status());
    assertEquals("not_websocket", JSON.readTree(plainGet.body()).get("code").asText());
    RawUpgrade.Answer elsewhere =
        RawUpgrade.upgrade(cluster.tls(), node.wssPort(), "/elsewhere", Map.of());
    assertEquals(404, elsewhere.status());
  }

  @Test
  void theEventStreamCarriesOneOnlineAndOneOfflineEvent() throws Exception {
    BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
    List<String> ids = new ArrayList<>();
    HttpRequest request =
        HttpRequest.newBuilder(cluster.apiUri(node, "/v1/events"))
            .header("Authorization", "Bearer " + TestCluster.API_KEY)
            .build();
    HttpResponse<java.io.InputStream> response =
        cluster.http().send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader lines =
                  new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                  if (line.startsWith("id:")) {
                    synchronized (ids) {
                      ids.add(line.substring(3).trim());
                    }
                  } else if (line.startsWith("data:") && !line.substring(5).isBlank()) {
                    JsonNode event = JSON.readTree(line.substring(5).trim());
                    if (event.get("userId").asText().equals("sse-user")) {
                      events.add(event);
                    }
                  }
                }
              } catch (java.io.IOException e) {
                // stream closed at the end of the test
              }
            });
    reader.setDaemon(true);
    reader.start();
    // The stream is subscribed once the node holds its listener; the SSE response arrives after that.
    WsClient device = cluster.connect(node, "sse-user");
    JsonNode online = events.poll(30, TimeUnit.SECONDS);
    assertEquals(PresenceEvent.Kind.online.name(), online.get("kind").asText());
    device.close();
    JsonNode offline = events.poll(30, TimeUnit.SECONDS);
    assertEquals(PresenceEvent.Kind.offline.name(), offline.get("kind").asText());
    assertTrue(offline.get("seq").asLong() > online.get("seq").asLong());
    synchronized (ids) {
      assertTrue(ids.contains(online.get("id").asText()), "the SSE id is the event id");
    }
    response.body().close();
  }

  @Test
  void deleteClosesEveryDeviceOfTheUserWith4000() {
    WsClient one = cluster.connect(node, "dave");
    WsClient two = cluster.connect(node, "dave");
    awaitOnline("dave", 2);
    ApiAnswer answer = cluster.delete(node, "/v1/users/dave/connections");
    assertEquals(200, answer.status());
    assertEquals(2, answer.body().get("closed").asInt());
    assertEquals(4000, one.awaitClose().code());
    assertEquals(4000, two.awaitClose().code());
    awaitOnline("dave", 0);
    assertFalse(cluster.get(node, "/v1/users/dave/presence").body().get("online").asBoolean());
  }

  @Test
  void presenceListsTheOpenConnectionsOfAUser() {
    WsClient device = cluster.connect(node, "frank");
    awaitOnline("frank", 1);
    JsonNode presence = cluster.get(node, "/v1/users/frank/presence").body();
    assertTrue(presence.get("online").asBoolean());
    JsonNode connection = presence.get("connections").get(0);
    assertEquals(node.node(), connection.get("node").asText());
    assertFalse(connection.get("id").asText().isEmpty());
    Instant.parse(connection.get("openedAt").asText());

    JsonNode many =
        cluster.postJson(node, "/v1/presence", Map.of("users", List.of("frank", "ghost"))).body();
    assertTrue(many.get("users").get(0).get("online").asBoolean());
    assertFalse(many.get("users").get(1).get("online").asBoolean());
    device.close();
  }

  /**
   * The API answers the hot path (a send to one user with a known body length) without its routing
   * tree; a send it cannot shortcut (a chunked body, an escaped id) goes through the routes. Both must
   * answer and deliver alike, and a bad key is refused either way.
   */
  @Test
  void aSendIsAnsweredAlikeWhetherOrNotItTakesTheShortcut() throws Exception {
    WsClient device = cluster.connect(node, "dave");
    awaitOnline("dave", 1);
    byte[] body = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);
    List<HttpRequest.BodyPublisher> bodies =
        List.of(
            HttpRequest.BodyPublishers.ofByteArray(body),
            // no length: sent chunked, so the body is read by the routes
            HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofByteArray(body)));
    List<String> paths = List.of("/v1/users/dave/messages", "/v1/users/d%61ve/messages");
    List<String> answers = new ArrayList<>();
    for (String path : paths) {
      for (HttpRequest.BodyPublisher publisher : bodies) {
        HttpResponse<String> answer = apiPost(path, "Bearer " + TestCluster.API_KEY, publisher);
        assertEquals(200, answer.statusCode(), path + ": " + answer.body());
        answers.add(answer.body());
        assertEquals(JSON.readTree(body), JSON.readTree(device.nextText()));
      }
    }
    assertEquals(1, answers.stream().distinct().count(), answers.toString());
    assertEquals(1, JSON.readTree(answers.get(0)).get("delivered").asInt());

    HttpRequest.BodyPublisher again = HttpRequest.BodyPublishers.ofByteArray(body);
    assertEquals(403, apiPost(paths.get(0), "Bearer wrong", again).statusCode());
    assertEquals(403, apiPost(paths.get(0), "Basic " + TestCluster.API_KEY, again).statusCode());
    assertEquals(200, apiPost(paths.get(0), "bearer " + TestCluster.API_KEY, again).statusCode());
    assertEquals(JSON.readTree(body), JSON.readTree(device.nextText()));
    assertEquals(0, device.pending());
    device.close();
  }

  private static HttpResponse<String> apiPost(
      String path, String authorization, HttpRequest.BodyPublisher body) throws Exception {
    return cluster
        .http()
        .send(
            HttpRequest.newBuilder(cluster.apiUri(node, path))
                .header("Authorization", authorization)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(body)
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void badApiInputGets4xxWithAJsonError() {
    assertEquals("invalid_json", cluster.post(node, "/v1/users/x/messages", "application/json",
        "{\"broken\":".getBytes(StandardCharsets.UTF_8)).body().get("code").asText());
    ApiAnswer wrongType =
        cluster.post(node, "/v1/users/x/messages", "image/png", new byte[] {1});
    assertEquals(400, wrongType.status());
    assertEquals("unsupported_content_type", wrongType.body().get("code").asText());
    ApiAnswer longId = cluster.get(node, "/v1/users/" + "u".repeat(300) + "/presence");
    assertEquals(400, longId.status());
    assertEquals("invalid_user_id", longId.body().get("code").asText());
    // Percent-escapes that are no UTF-8: the node sees the raw request line, not Pekko's U+FFFD.
    ApiAnswer notUtf8 = cluster.post(node, "/v1/users/%ff/messages", "text/plain", new byte[] {'x'});
    assertEquals(400, notUtf8.status());
    assertEquals("invalid_user_id", notUtf8.body().get("code").asText());
    assertEquals(200, cluster.get(node, "/v1/users/caf%C3%A9/presence").status());
    ApiAnswer nullRecipient = cluster.post(node, "/v1/messages", "application/json",
        "{\"to\": [\"a\", null], \"text\": \"x\"}".getBytes(StandardCharsets.UTF_8));
    assertEquals("to[1]", nullRecipient.body().get("field").asText());
    ApiAnswer emptyId = cluster.postJson(node, "/v1/users//messages", Map.of());
    assertEquals(400, emptyId.status());
    ApiAnswer emptyInList = cluster.postJson(node, "/v1/messages", Map.of("to", List.of(""), "text", "x"));
    assertEquals(400, emptyInList.status());
    ApiAnswer twoForms =
        cluster.postJson(node, "/v1/messages", Map.of("to", List.of("a"), "text", "x", "binary", "AA=="));
    assertEquals("invalid_message", twoForms.body().get("code").asText());
    ApiAnswer badBase64 =
        cluster.postJson(node, "/v1/messages", Map.of("to", List.of("a"), "binary", "***"));
    assertEquals(400, badBase64.status());
    ApiAnswer tooManyUsers =
        cluster.postJson(node, "/v1/presence",
            Map.of("users", IntStream.range(0, 101).mapToObj(i -> "u" + i).toList()));
    assertEquals(400, tooManyUsers.status());
    ApiAnswer tooLarge =
        cluster.post(node, "/v1/users/x/messages", "application/octet-stream", new byte[2 << 20]);
    assertEquals(413, tooLarge.status());
    assertEquals("body_too_large", tooLarge.body().get("code").asText());
    ApiAnswer wrongMethod = cluster.get(node, "/v1/users/x/messages");
    assertEquals(405, wrongMethod.status());
    assertEquals(404, cluster.get(node, "/v1/nothing").status());
  }

  @Test
  void theApiNeedsTheKeyButHealthDoesNot() throws Exception {
    HttpResponse<String> noKey =
        cluster.http().send(
            HttpRequest.newBuilder(cluster.apiUri(node, "/v1/users/a/presence")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(401, noKey.statusCode());
    assertEquals("unauthorized", JSON.readTree(noKey.body()).get("code").asText());
    HttpResponse<String> wrongKey =
        cluster.http().send(
            HttpRequest.newBuilder(cluster.apiUri(node, "/v1/users/a/presence"))
                .header("Authorization", "Bearer nope").build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(403, wrongKey.statusCode());
    assertEquals("forbidden", JSON.readTree(wrongKey.body()).get("code").asText());
    for (String health : List.of("/health/live", "/health/ready")) {
      HttpResponse<String> answer =
          cluster.http().send(HttpRequest.newBuilder(cluster.apiUri(node, health)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, answer.statusCode(), health);
    }
  }

  @Test
  void aClientMessageWithoutAHandlerIsAnsweredNotDropped() throws Exception {
    WsClient device = cluster.connect(node, "talker");
    device.send("{\"hello\": 1}");
    assertTrue(JSON.readTree(device.nextText()).has("error"));
    device.close();
  }

  record Greeting(String text, int count) {}

  @Test
  void theInNodeJavaApiSendsAndAnswersPresence() throws Exception {
    java.util.concurrent.BlockingQueue<PresenceEvent> seen = new LinkedBlockingQueue<>();
    io.switchboard.presence.PresenceListener.Registration registration =
        node.presenceListener(event -> {
          if (event.userId().equals("java-user")) {
            seen.add(event);
          }
        });
    try {
      BlockingQueue<String> onlines = new LinkedBlockingQueue<>();
      BlockingQueue<String> offlines = new LinkedBlockingQueue<>();
      node.onOnline(onlines::add);
      node.onOffline(offlines::add);
      assertFalse(node.isOnline("java-user").toCompletableFuture().get(30, TimeUnit.SECONDS));
      WsClient device = cluster.connect(node, "java-user");
      assertEquals(PresenceEvent.Kind.online, seen.poll(30, TimeUnit.SECONDS).kind());
      assertTrue(node.isOnline("java-user").toCompletableFuture().get(30, TimeUnit.SECONDS));

      assertEquals(1, node.send("java-user", new Greeting("hi", 2)).toCompletableFuture()
          .get(30, TimeUnit.SECONDS));
      assertEquals(JSON.readTree("{\"text\":\"hi\",\"count\":2}"), JSON.readTree(device.nextText()));
      node.send("java-user", "as text").toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertEquals("as text", device.nextText());
      node.send("java-user", new byte[] {9}).toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertArrayEquals(new byte[] {9}, device.nextBinary());

      Map<String, Integer> counts = node.to(List.of("java-user", "nobody", "java-user"))
          .send(Map.of("all", true)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertEquals(Map.of("java-user", 1, "nobody", 0), counts);
      assertEquals("{\"all\":true}", device.nextText());
      assertEquals(List.of("java-user", "nobody"), List.copyOf(counts.keySet()));

      List<String> tooMany = IntStream.range(0, 101).mapToObj(i -> "u" + i).toList();
      org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> node.to(tooMany));
      org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> node.send("", "x"));

      assertEquals(1, node.closeConnections("java-user", "ban").toCompletableFuture()
          .get(30, TimeUnit.SECONDS));
      assertEquals(4000, device.awaitClose().code());
      assertEquals(PresenceEvent.Kind.offline, seen.poll(30, TimeUnit.SECONDS).kind());
      // Each listener is called on its own: the others may hear it a moment after the first.
      TestCluster.await("onOnline and onOffline heard java-user",
          () -> onlines.contains("java-user") && offlines.contains("java-user"));
    } finally {
      registration.close();
    }
  }
}
