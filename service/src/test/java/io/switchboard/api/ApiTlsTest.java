package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.switchboard.Switchboard;
import io.switchboard.support.TestCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code API_TLS=on}: the internal API speaks HTTPS with the node's certificate, and only HTTPS. */
class ApiTlsTest {
  private static TestCluster cluster;
  private static Switchboard node;

  @BeforeAll
  static void start() {
    cluster = new TestCluster();
    node = cluster.startNode(Map.of("switchboard.api.tls", "on"));
    TestCluster.await("the node is ready", node::isReady);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void theApiAnswersOverHttpsWithTheKeyAndNotOverPlainHttp() throws Exception {
    URI https = URI.create("https://localhost:" + node.apiPort() + "/v1/users/tls-user/presence");
    HttpResponse<String> answer = cluster.http().send(
        HttpRequest.newBuilder(https).header("Authorization", "Bearer " + TestCluster.API_KEY).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, answer.statusCode());
    assertEquals("tls-user", new com.fasterxml.jackson.databind.ObjectMapper().readTree(answer.body())
        .get("userId").asText());

    URI plain = URI.create("http://localhost:" + node.apiPort() + "/health/ready");
    assertThrows(IOException.class, () -> cluster.http().send(
        HttpRequest.newBuilder(plain).build(), HttpResponse.BodyHandlers.ofString()));
  }
}
