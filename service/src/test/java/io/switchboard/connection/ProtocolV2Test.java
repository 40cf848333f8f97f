package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.Switchboard;
import io.switchboard.support.RawUpgrade;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Protocol v2 on a running node: a client that offers the subprotocol {@code switchboard.v2} or asks
 * {@code ?protocol=2} gets every frame in the JSON envelope; a plain client keeps the raw frames.
 */
class ProtocolV2Test {
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

  private static WsClient connect(String userId, URI uri, List<String> subprotocols) {
    WsClient client = WsClient.connect(cluster.http(), uri,
        Map.of("Authorization", "Bearer " + cluster.token(userId)), subprotocols);
    TestCluster.await(userId + " is registered", () -> cluster.get(node, "/v1/users/" + userId
        + "/presence").body().get("connections").size() == 1);
    return client;
  }

  /** Sends a JSON value, a string and bytes to {@code userId}; each reaches its one device. */
  private static void sendAllKinds(String userId) {
    String path = "/v1/users/" + userId + "/messages";
    assertEquals(1, cluster.postJson(node, path, Map.of("n", 1, "s", "x")).body().get("delivered").asInt());
    assertEquals(1, cluster.post(node, path, "text/plain; charset=utf-8",
        "h\u00e9 \"q\"\n".getBytes(StandardCharsets.UTF_8)).body().get("delivered").asInt());
    assertEquals(1, cluster.post(node, path, "application/octet-stream", new byte[] {0, 1, (byte) 255})
        .body().get("delivered").asInt());
  }

  private static void assertEnvelopes(WsClient client) throws Exception {
    JsonNode data = JSON.readTree(client.nextText());
    assertEquals("message", data.get("$switchboard").asText(), data.toString());
    assertEquals(JSON.readTree("{\"n\":1,\"s\":\"x\"}"), data.get("data"));
    JsonNode text = JSON.readTree(client.nextText());
    assertEquals("message", text.get("$switchboard").asText());
    assertEquals("h\u00e9 \"q\"\n", text.get("text").asText());
    JsonNode binary = JSON.readTree(client.nextText());
    assertEquals("message", binary.get("$switchboard").asText());
    assertEquals(List.of(0, 1, 255), toList(Base64.getDecoder().decode(binary.get("binary").asText())));
  }

  private static List<Integer> toList(byte[] bytes) {
    return java.util.stream.IntStream.range(0, bytes.length).map(i -> bytes[i] & 0xff).boxed().toList();
  }

  @Test
  void aClientOfferingTheV2SubprotocolGetsEveryFrameInTheEnvelope() throws Exception {
    WsClient client = connect("v2-subprotocol", cluster.socketUri(node), List.of("switchboard.v2"));
    assertEquals("switchboard.v2", client.socket().getSubprotocol());
    sendAllKinds("v2-subprotocol");
    assertEnvelopes(client);
    client.close();
  }

  @Test
  void aClientAskingProtocol2InTheQueryGetsTheEnvelope() throws Exception {
    WsClient client = connect("v2-query", URI.create(cluster.socketUri(node) + "?protocol=2"), List.of());
    sendAllKinds("v2-query");
    assertEnvelopes(client);
    client.close();
  }

  @Test
  void aPlainClientKeepsTheRawFrames() throws Exception {
    WsClient client = connect("v1-plain", cluster.socketUri(node), List.of("switchboard"));
    assertEquals("switchboard", client.socket().getSubprotocol());
    sendAllKinds("v1-plain");
    assertEquals(JSON.readTree("{\"n\":1,\"s\":\"x\"}"), JSON.readTree(client.nextText()));
    assertEquals("h\u00e9 \"q\"\n", client.nextText());
    assertEquals(List.of(0, 1, 255), toList(client.nextBinary()));
    client.close();
  }

  @Test
  void switchboardsOwnAnswersGoOutAsTheyAreAndPlainErrorsInTheEnvelope() throws Exception {
    // No handler on this node: each client message is answered with an error.
    WsClient client = connect("v2-answers", cluster.socketUri(node), List.of("switchboard.v2"));
    client.send("{\"$switchboard\": \"request\", \"id\": 7, \"data\": {\"q\": 1}}");
    JsonNode reply = JSON.readTree(client.nextText());
    assertEquals("reply", reply.get("$switchboard").asText(), reply.toString());
    assertEquals(7, reply.get("id").asInt());
    assertEquals("no request handler is configured on this node", reply.get("error").asText());
    client.send("{\"$switchboard\": \"nonsense\"}");
    JsonNode unknown = JSON.readTree(client.nextText());
    assertEquals("nonsense", unknown.get("$switchboard").asText(), unknown.toString());
    assertTrue(unknown.has("error"), unknown.toString());
    client.send("{\"q\": 2}");
    JsonNode plain = JSON.readTree(client.nextText());
    assertEquals("message", plain.get("$switchboard").asText(), plain.toString());
    assertEquals("no request handler is configured on this node", plain.get("data").get("error").asText());
    client.close();
  }

  @Test
  void anUnknownProtocolVersionIsRefusedWith400() throws Exception {
    RawUpgrade.Answer answer = RawUpgrade.upgrade(cluster.tls(), node.wssPort(), "/socket?protocol=3",
        Map.of("Authorization", "Bearer " + cluster.token("v3")));
    assertEquals(400, answer.status(), answer.headers());
    assertTrue(answer.body().contains("protocol must be 1 or 2, got '3'"), answer.body());
  }

  @Test
  void theEnvelopeOfEachKindIsOneJsonTextFrame() {
    assertEquals("{\"$switchboard\":\"message\",\"data\":[1,{\"a\":null}]}",
        EnvelopeSocket.envelope(io.switchboard.cluster.OutboundMessage.json(
            JSON.createArrayNode().add(1).add(JSON.createObjectNode().putNull("a")))).text());
    assertEquals("{\"$switchboard\":\"message\",\"text\":\"tab\\there \\\\ \\u0001\"}",
        EnvelopeSocket.envelope(io.switchboard.cluster.OutboundMessage.text("tab\there \\ \u0001")).text());
    assertEquals("{\"$switchboard\":\"message\",\"binary\":\"AP8=\"}",
        EnvelopeSocket.envelope(io.switchboard.cluster.OutboundMessage.binary(new byte[] {0, -1})).text());
  }
}
