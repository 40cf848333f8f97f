package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
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
}
