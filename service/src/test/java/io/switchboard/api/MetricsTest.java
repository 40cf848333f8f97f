package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.Switchboard;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code GET /metrics}: what the node did, in Prometheus text, behind the API key. */
class MetricsTest {
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

  private HttpResponse<String> scrape(boolean withKey) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(cluster.apiUri(node, "/metrics"));
    if (withKey) {
      request.header("Authorization", "Bearer " + TestCluster.API_KEY);
    }
    return cluster.http().send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private double value(String metrics, String series) {
    Matcher matcher =
        Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(metrics);
    return matcher.find() ? Double.parseDouble(matcher.group(1)) : Double.NaN;
  }

  private double valueNow(String series) {
    try {
      return value(scrape(true).body(), series);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void countsConnectionsUsersMessagesDeliveriesAndClosesAndNeedsTheKey() throws Exception {
    assertEquals(401, scrape(false).statusCode());
    HttpResponse<String> first = scrape(true);
    assertEquals(200, first.statusCode());
    assertTrue(first.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    assertTrue(first.body().contains("jvm_memory_used_bytes"), "JVM metrics too");
    assertEquals(1.0, value(first.body(), "switchboard_cluster_members{status=\"up\"}"));

    WsClient phone = cluster.connect(node, "metered");
    WsClient laptop = cluster.connect(node, "metered");
    TestCluster.await("two connections, one online user",
        () -> valueNow("switchboard_connections") == 2.0 && valueNow("switchboard_online_users") == 1.0);

    assertEquals(2, cluster.postJson(node, "/v1/users/metered/messages", Map.of("n", 1))
        .body().get("delivered").asInt());
    phone.nextText();
    laptop.nextText();
    phone.send("{\"to\": \"the app\"}"); // no handler here: answered with an error
    phone.nextText();
    // A frame is counted by its connection actor just after it goes to the socket, so the client can
    // read the reply before the count: wait for it rather than race it.
    TestCluster.await("three frames out counted", () -> valueNow("switchboard_messages_out_total") == 3.0);
    String metrics = scrape(true).body();
    assertEquals(1.0, value(metrics, "switchboard_sends_total"));
    assertEquals(2.0, value(metrics, "switchboard_deliveries_total"));
    assertEquals(1.0, value(metrics, "switchboard_messages_in_total"));
    assertEquals(3.0, value(metrics, "switchboard_messages_out_total"));

    cluster.delete(node, "/v1/users/metered/connections");
    assertEquals(4000, phone.awaitClose().code());
    laptop.awaitClose();
    TestCluster.await("closes counted by code, and nobody online",
        () -> valueNow("switchboard_closes_total{code=\"4000\"}") == 2.0
            && valueNow("switchboard_connections") == 0.0
            && valueNow("switchboard_online_users") == 0.0);
  }
}
