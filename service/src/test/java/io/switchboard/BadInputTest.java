package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.support.RawSocket;
import io.switchboard.support.RawUpgrade;
import io.switchboard.support.TestCluster.ApiAnswer;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile and broken input thrown at a running node: each gets its clear answer (a close code, an
 * HTTP status), and after each the node is healthy: ready, and a well-behaved client still gets a send.
 */
class BadInputTest {
  private static TestCluster cluster;
  private static Switchboard node;

  @BeforeAll
  static void start() {
    cluster = new TestCluster();
    node = cluster.startNode(Map.of(
        "switchboard.wss.max-message-size", "1KiB",
        "switchboard.wss.handshake-timeout", "1s"));
    cluster.awaitMembersUp(1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @AfterEach
  void theNodeIsHealthy() {
    assertTrue(node.isReady());
    WsClient fine = cluster.connect(node, "well-behaved");
    TestCluster.await("the well-behaved client is registered",
        () -> cluster.get(node, "/v1/users/well-behaved/presence").body().get("connections").size() == 1);
    assertEquals(1, cluster.postJson(node, "/v1/users/well-behaved/messages", Map.of("ok", true))
        .body().get("delivered").asInt());
    assertEquals("{\"ok\":true}", fine.nextText());
    fine.close();
  }

  private RawSocket upgraded() throws Exception {
    return RawSocket.upgrade(cluster.tls(), node.wssPort(),
        Map.of("Authorization", "Bearer " + cluster.token("hostile")));
  }

  @Test
  void invalidUtf8InATextFrameIsClosedWith1007() throws Exception {
    try (RawSocket raw = upgraded()) {
      raw.frame(0x81, new byte[] {(byte) 0xc3, (byte) 0x28, 'x'}, true);
      assertEquals(1007, raw.awaitClose());
    }
  }

  @Test
  void reservedOpcodesAndUnmaskedFramesAreProtocolErrors() throws Exception {
    try (RawSocket raw = upgraded()) {
      raw.frame(0x83, "?".getBytes(StandardCharsets.UTF_8), true);
      assertEquals(1002, raw.awaitClose());
    }
    try (RawSocket raw = upgraded()) {
      raw.frame(0x81, "{}".getBytes(StandardCharsets.UTF_8), false);
      assertEquals(1002, raw.awaitClose());
    }
  }

  @Test
  void aHugeFrameAndAFragmentedMessagePastTheLimitAreClosedWith1009() throws Exception {
    try (RawSocket raw = upgraded()) {
      raw.frame(0x81, new byte[2048], true);
      assertEquals(1009, raw.awaitClose());
    }
    try (RawSocket raw = upgraded()) {
      byte[] part = new byte[600];
      Arrays.fill(part, (byte) 'a');
      raw.frame(0x01, part, true); // text, not final
      raw.frame(0x00, part, true); // continuation: 1200 bytes in all
      raw.frame(0x80, part, true);
      assertEquals(1009, raw.awaitClose());
    }
  }

  @Test
  void aTruncatedFrameThenSilenceLeavesNothingBehind() throws Exception {
    try (RawSocket raw = upgraded()) {
      // Header announces 100 bytes, 10 come, then the client vanishes.
      raw.write(new byte[] {(byte) 0x81, (byte) (0x80 | 100), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14});
    }
    TestCluster.await("the truncated client's connection is gone",
        () -> cluster.get(node, "/v1/users/hostile/presence").body().get("connections").size() == 0);
  }

  @Test
  void aPingFloodDoesNotHurtTheNode() throws Exception {
    try (RawSocket raw = upgraded()) {
      for (int i = 0; i < 5000; i++) {
        raw.frame(0x89, new byte[] {1, 2, 3, 4}, true);
      }
      raw.frame(0x88, new byte[] {0x03, (byte) 0xe8}, true); // close 1000
      assertEquals(1000, raw.awaitClose());
    }
  }

  /**
   * A client that floods pings and reads nothing: the node either stops reading from it (TCP
   * backpressure: the Pekko HTTP edge) or keeps reading and leaves most pings unanswered (the Netty
   * edge answers only the latest while its outgoing buffer is full); it never queues a pong per ping.
   */
  @Test
  void aClientThatFloodsPingsAndReadsNothingIsNotAnsweredWithoutBound() throws Exception {
    int batches = 1000;
    int pingsPerBatch = 1000; // 10^6 pings, 131 MB: far more than the sockets' buffers hold
    byte[] ping = RawSocket.frameBytes(0x89, new byte[125], true);
    byte[] batch = new byte[ping.length * pingsPerBatch];
    for (int i = 0; i < pingsPerBatch; i++) {
      System.arraycopy(ping, 0, batch, i * ping.length, ping.length);
    }
    try (RawSocket raw = upgraded()) {
      AtomicInteger written = new AtomicInteger();
      Thread writer = new Thread(() -> {
        try {
          for (int i = 0; i < batches; i++) {
            raw.write(batch);
            written.incrementAndGet();
          }
        } catch (IOException e) {
          // the socket was closed below while this write waited
        }
      }, "ping-flooder");
      writer.start();
      // Until every ping is written, or the node stops reading: no progress for 3 s.
      int before = -1;
      while (writer.isAlive() && written.get() != before) {
        before = written.get();
        writer.join(3000);
      }
      if (!writer.isAlive()) {
        // The node read every ping: it must have left most of them unanswered.
        int pongs = raw.countPongsUntilQuiet(3000);
        assertTrue(pongs < batches * pingsPerBatch / 2,
            pongs + " pongs queued for " + batches * pingsPerBatch + " pings");
      }
      // Otherwise the node stopped reading (TCP backpressure), which bounds what it holds for the
      // client. Either way the node must be healthy after (AfterEach).
      raw.abort();
      writer.join();
    }
  }

  @Test
  void aThousandBadTokensInARowAreEachRefusedWith401() throws Exception {
    String[] tokens = {
      "not-a-jwt",
      "eyJhbGciOiJub25lIn0.eyJzdWIiOiJldmUifQ.",
      cluster.token("eve").substring(0, 40),
      io.switchboard.auth.DevTokens.sign("another-secret-another-secret-another-0123", "eve",
          java.time.Duration.ofHours(1)),
    };
    for (int i = 0; i < 1000; i++) {
      RawUpgrade.Answer answer = RawUpgrade.upgrade(cluster.tls(), node.wssPort(), "/socket",
          Map.of("Authorization", "Bearer " + tokens[i % tokens.length]));
      assertEquals(401, answer.status(), "attempt " + i);
    }
  }

  @Test
  void aSlowHandshakeIsCutOffAtTheHandshakeTimeout() throws Exception {
    try (RawSocket raw = RawSocket.connect(cluster.tls(), node.wssPort())) {
      raw.write("GET /socket HTTP/1.1\r\nHost: loc".getBytes(StandardCharsets.US_ASCII));
      assertTrue(raw.closedByNode(), "closed within the socket's 30 s read timeout (handshake timeout 1 s)");
    }
  }

  @Test
  void aRequestThatIsNotHttpGetsAnErrorStatusWithTheJsonError() throws Exception {
    RawUpgrade.Answer answer = RawUpgrade.exchange(cluster.tls(), node.wssPort(),
        "HELLO THERE\r\nnot a header\r\n\r\n");
    // 400 from the Netty edge; Pekko HTTP's parser names the unknown method: 501 Not Implemented.
    assertTrue(answer.status() == 400 || answer.status() == 501, answer.headers());
    assertTrue(answer.body().contains("\"code\":\"bad_request\""), answer.body());
    assertTrue(answer.body().contains("malformed HTTP request"), answer.body());
  }

  @Test
  void oddUserIdsInApiPathsAreIdsNotPaths() {
    // Encoded slashes and dots stay inside the one path segment: they name a user, nothing else.
    for (String path : new String[] {"..%2F..%2Fhealth%2Fready", "...", "a%2Fb", "%F0%9D%84%9E", "%20"}) {
      ApiAnswer answer = cluster.postJson(node, "/v1/users/" + path + "/messages", Map.of("x", 1));
      assertEquals(200, answer.status(), path + " " + answer.body());
      assertEquals(0, answer.body().get("delivered").asInt(), path);
    }
    // "." and ".." are path segments to any URL library (encoded or not), so they are no user ids:
    // such a request lands on another route of the API and is refused there, in JSON.
    for (String dots : new String[] {"%2E%2E", "%2e", ".."}) {
      ApiAnswer answer = cluster.postJson(node, "/v1/users/" + dots + "/messages", Map.of("x", 1));
      assertTrue(answer.status() >= 400 && answer.status() < 500, dots + " " + answer.status());
      assertTrue(answer.body().has("error"), dots + " " + answer.body());
    }
    ApiAnswer control = cluster.postJson(node, "/v1/users/%07bell/messages", Map.of("x", 1));
    assertEquals(400, control.status());
  }

  @Test
  void requestsTheApiCannotParseGetTheJsonErrorShape() throws Exception {
    String host = "Host: localhost\r\nConnection: close\r\n";
    Map<String, Integer> requests = Map.of(
        "BREW /v1/users/a/presence HTTP/1.1\r\n" + host + "\r\n", 501,
        "GET /v1/users/" + "a".repeat(9000) + "/presence HTTP/1.1\r\n" + host + "\r\n", 414,
        "GET /v1/users/a/presence HTTP/1.1\r\n" + host + "X-Big: " + "b".repeat(9000) + "\r\n\r\n", 431,
        "GET /v1/users/a/presence HTTP/1.1\r\n" + host + "Content-Length: many\r\n\r\n", 400);
    requests.forEach((request, status) -> {
      RawUpgrade.Answer answer;
      try {
        answer = RawUpgrade.exchange(null, node.apiPort(), request);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      assertEquals(status, answer.status(), answer.headers());
      assertTrue(answer.headers().toLowerCase(java.util.Locale.ROOT).contains("application/json"),
          answer.headers());
      assertTrue(answer.body().startsWith("{\"error\":\"malformed HTTP request: "), answer.body());
      assertTrue(answer.body().endsWith(",\"code\":\"bad_request\"}"), answer.body());
    });
  }

  @Test
  void theLongestUserIdFitsInAnApiPath() {
    // 256 characters of three UTF-8 bytes each: 2,304 characters percent-encoded.
    String id = "\u4e16".repeat(256);
    String encoded = java.net.URLEncoder.encode(id, StandardCharsets.UTF_8);
    ApiAnswer answer = cluster.postJson(node, "/v1/users/" + encoded + "/messages", Map.of("x", 1));
    assertEquals(200, answer.status(), answer.body().toString());
    ApiAnswer tooLong = cluster.postJson(node, "/v1/users/" + encoded + "%E4%B8%96/messages", Map.of("x", 1));
    assertEquals(400, tooLong.status(), tooLong.body().toString());
  }
}
