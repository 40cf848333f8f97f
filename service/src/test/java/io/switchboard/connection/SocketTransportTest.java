package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.Switchboard;
import io.switchboard.support.RawUpgrade;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The WebSocket edge on real sockets: keep-alive pings, closing silent peers, message size limits, and
 * anonymous connections (off by default, on when configured).
 */
class SocketTransportTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestCluster cluster;
  private static Switchboard node;

  @BeforeAll
  static void start() {
    cluster = new TestCluster();
    node =
        cluster.startNode(
            Map.of(
                "switchboard.wss.ping-interval", "200ms",
                "switchboard.wss.idle-timeout", "1s",
                "switchboard.wss.max-message-size", "1KiB",
                "switchboard.auth.allow-anonymous", "on"));
    cluster.awaitMembersUp(1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void aQuietClientThatAnswersPingsStaysConnectedPastTheIdleTimeout() {
    AtomicInteger pings = new AtomicInteger();
    WsClient client =
        new WsClient() {
          @Override
          public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
            pings.incrementAndGet();
            return super.onPing(webSocket, message);
          }
        }.open(cluster.http(), cluster.socketUri(node),
            Map.of("Authorization", "Bearer " + cluster.token("quiet")), List.of());
    // Ten pings at 200 ms span twice the 1 s idle timeout; the JDK client answers each with a pong.
    TestCluster.await("ten pings", () -> pings.get() >= 10);
    assertFalse(client.isClosed());
    assertEquals(1, cluster.postJson(node, "/v1/users/quiet/messages", Map.of("still", "here"))
        .body().get("delivered").asInt());
    assertEquals("{\"still\":\"here\"}", client.nextText());
    client.close();
  }

  @Test
  void aPeerThatNeverAnswersIsClosedWith1001AfterTheIdleTimeout() throws Exception {
    // A raw client completes the handshake, then neither reads frames nor answers pings.
    RawUpgrade.Answer answer =
        RawUpgrade.upgrade(cluster.tls(), node.wssPort(), "/socket",
            Map.of("Authorization", "Bearer " + cluster.token("silent")));
    assertEquals(101, answer.status());
    byte[] frames = answer.bodyBytes();
    assertEquals(1001, closeCode(frames), "the last frame is a close with 1001");
  }

  /** The status code of the close frame among {@code frames} (server frames are unmasked). */
  private static int closeCode(byte[] frames) {
    int i = 0;
    while (i + 1 < frames.length) {
      int opcode = frames[i] & 0x0f;
      int length = frames[i + 1] & 0x7f;
      if (opcode == 0x8) {
        return ((frames[i + 2] & 0xff) << 8) | (frames[i + 3] & 0xff);
      }
      i += 2 + length;
    }
    throw new AssertionError("no close frame in " + frames.length + " bytes");
  }

  @Test
  void aMessageOverTheSizeLimitIsClosedWith1009() {
    WsClient client = cluster.connect(node, "big-talker");
    client.socket().sendText("x".repeat(2048), true);
    assertEquals(1009, client.awaitClose().code());
  }

  @Test
  void anAnonymousConnectionIsAcceptedWhenAllowed() throws Exception {
    WsClient anonymous =
        WsClient.connect(cluster.http(), cluster.socketUri(node), Map.of(), List.of());
    anonymous.send("hi");
    assertTrue(JSON.readTree(anonymous.nextText()).has("error"));
    anonymous.close();
  }

  @Test
  void withTlsOffTheNodeServesPlainWebSockets() throws Exception {
    try (TestCluster other = new TestCluster()) {
      Switchboard plain = other.startNode(Map.of("switchboard.tls.enabled", "off"));
      other.awaitMembersUp(1);
      WsClient client =
          WsClient.connect(HttpClient.newHttpClient(),
              URI.create("ws://127.0.0.1:" + plain.wssPort() + "/socket?token=" + other.token("p")),
              Map.of(), List.of());
      TestCluster.await("p is online", () -> other.get(plain, "/v1/users/p/presence").body()
          .get("online").asBoolean());
      other.postJson(plain, "/v1/users/p/messages", Map.of("tls", false));
      assertEquals("{\"tls\":false}", client.nextText());
      client.close();
    }
  }
}
