package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.JWTClaimsSet;
import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.auth.DevTokens;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.connection.ConnectionActorTest.RecordingSocket;
import io.switchboard.handler.DataType;
import io.switchboard.handler.InboundFrame;
import io.switchboard.presence.ToConnection;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.CloseCodes;
import io.switchboard.support.TestCluster;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection lives no longer than its token: at {@code exp} it is closed with 4001, unless the client
 * sent a fresh token for the same user first ({@code {"$switchboard": "refresh", "token": ...}}).
 */
@ExtendWith(TestKitJUnit5Extension.class)
class TokenLifetimeTest {
  @JUnit5TestKit final ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET = "token-lifetime-secret-token-lifetime-0123";
  private static final TokenVerifier VERIFIER = new TokenVerifier(SECRET, Duration.ofSeconds(5));
  private final List<Object> handled = new CopyOnWriteArrayList<>();

  private static String token(String user, Instant exp) {
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().subject(user).issueTime(new Date());
    if (exp != null) {
      claims.expirationTime(Date.from(exp));
    }
    return DevTokens.sign(SECRET, claims.build());
  }

  private static AuthenticatedUser user(String token) {
    return ((TokenVerifier.Verified) VERIFIER.verify(token)).user();
  }

  private ActorRef<ToConnection> start(AuthenticatedUser user, RecordingSocket socket) {
    Handling handling =
        new Handling((request, s) -> {
          handled.add(request.data());
          return CompletableFuture.completedFuture("ok");
        }, DataType.JSON, Duration.ofSeconds(10), 16, 256, 0, 1, VERIFIER, null);
    return testKit.spawn(
        ConnectionActor.create("c1", "node-a", user, socket,
            testKit.createTestProbe(UserPresence.Command.class).getRef(),
            Duration.ofMinutes(1), new ConnectionRegistry(), handling));
  }

  private static void send(ActorRef<ToConnection> connection, String text) {
    connection.tell(new ConnectionActor.FromClient(InboundFrame.text(text)));
  }

  private static String refresh(String token) {
    return "{\"$switchboard\": \"refresh\", \"token\": \"" + token + "\"}";
  }

  @Test
  void atTheTokensExpiryTheConnectionIsClosedWith4001() {
    RecordingSocket socket = new RecordingSocket(10);
    start(user(token("ann", Instant.now().plusSeconds(2))), socket);
    assertEquals(CloseCodes.TOKEN_EXPIRED, socket.awaitClose());
  }

  @Test
  void aFreshTokenForTheSameUserMovesTheExpiry() throws Exception {
    RecordingSocket socket = new RecordingSocket(10);
    Instant firstExpiry = Instant.now().plusSeconds(2);
    ActorRef<ToConnection> connection = start(user(token("ann", firstExpiry)), socket);
    Instant later = Instant.now().plusSeconds(3600);
    send(connection, refresh(token("ann", later)));
    JsonNode answer = JSON.readTree(socket.next().text());
    assertEquals("refreshed", answer.get("$switchboard").asText());
    assertEquals(later.getEpochSecond(), answer.get("exp").asLong());
    assertTrue(handled.isEmpty(), "a refresh frame is not the app's message");

    TestCluster.await("past the first token's expiry", () -> Instant.now().isAfter(firstExpiry.plusMillis(500)));
    assertFalse(socket.closedWith.isDone(), "still open after the first token's exp");
    send(connection, "{\"still\": \"here\"}");
    assertEquals("ok", socket.next().text());
  }

  @Test
  void anInvalidRefreshIsAnsweredWithAnErrorAndChangesNothing() throws Exception {
    RecordingSocket socket = new RecordingSocket(10);
    ActorRef<ToConnection> connection =
        start(user(token("ann", Instant.now().plusSeconds(3))), socket);
    String wrongSecret = DevTokens.sign("another-secret-another-secret-another-0123", "ann", Duration.ofHours(1));
    send(connection, refresh(wrongSecret));
    JsonNode answer = JSON.readTree(socket.next().text());
    assertEquals("refresh", answer.get("$switchboard").asText());
    assertEquals("invalid token signature", answer.get("error").asText());
    // The first token's expiry still holds.
    assertEquals(CloseCodes.TOKEN_EXPIRED, socket.awaitClose());
  }

  @Test
  void aRefreshWithAnotherUsersTokenClosesTheConnectionWith4003() {
    RecordingSocket socket = new RecordingSocket(10);
    ActorRef<ToConnection> connection =
        start(user(token("ann", Instant.now().plusSeconds(3600))), socket);
    send(connection, refresh(token("mallory", Instant.now().plusSeconds(3600))));
    assertEquals(CloseCodes.WRONG_USER, socket.awaitClose());
    assertTrue(handled.isEmpty());
  }

  @Test
  void aTokenWithoutExpiryNeverClosesTheConnectionAndOtherJsonGoesToTheApp() throws Exception {
    RecordingSocket socket = new RecordingSocket(10);
    ActorRef<ToConnection> connection = start(user(token("ann", null)), socket);
    send(connection, "{\"text\": \"mentions $switchboard but is not a control frame\"}");
    assertEquals("ok", socket.next().text());
    send(connection, "{\"$switchboard\": \"dance\"}");
    assertEquals("unknown command; the commands are request and refresh",
        JSON.readTree(socket.next().text()).get("error").asText());
    assertEquals(1, handled.size());
    assertFalse(socket.closedWith.isDone());
  }
}
