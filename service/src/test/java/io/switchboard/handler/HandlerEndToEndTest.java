package io.switchboard.handler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.switchboard.Switchboard;
import io.switchboard.protocol.Signatures;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client messages to a real handler: an app over HTTP (a real local HTTP server that checks the
 * signature), an in-node Java handler given at start, and one found with ServiceLoader.
 */
class HandlerEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET = "handler-secret";
  private static HttpServer app;
  private static final BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
  private static final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
  private static TestCluster cluster;
  private static Switchboard forwarding;

  @BeforeAll
  static void start() throws IOException {
    app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    app.createContext("/handle", HandlerEndToEndTest::handle);
    app.start();
    cluster = new TestCluster();
    forwarding =
        cluster.startNode(
            Map.of(
                "switchboard.handler.url", "http://127.0.0.1:" + app.getAddress().getPort() + "/handle",
                "switchboard.handler.secret", SECRET));
    cluster.awaitMembersUp(1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
    app.stop(0);
  }

  /** The app: refuses a bad signature, answers by the request's "kind". */
  private static void handle(HttpExchange exchange) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    clientPorts.add(exchange.getRemoteAddress().getPort());
    long timestamp = Long.parseLong(exchange.getRequestHeaders().getFirst(Signatures.TIMESTAMP_HEADER));
    String signature = exchange.getRequestHeaders().getFirst(Signatures.SIGNATURE_HEADER);
    if (!Signatures.verify(SECRET, timestamp, body, signature)
        || Math.abs(System.currentTimeMillis() / 1000 - timestamp) > 300) {
      answer(exchange, 401, "application/json", "{\"error\":\"bad signature\"}".getBytes());
      return;
    }
    JsonNode request = JSON.readTree(body);
    received.add(request);
    String kind = request.get("data").path("kind").asText();
    switch (kind) {
      case "text" -> answer(exchange, 200, "text/plain; charset=utf-8", "plain ✓".getBytes(StandardCharsets.UTF_8));
      case "binary" -> answer(exchange, 200, "application/octet-stream", new byte[] {1, 2, 3});
      case "refuse" -> answer(exchange, 422, "application/json", "{\"error\":\"not allowed\"}".getBytes());
      case "crash" -> answer(exchange, 500, "text/plain", "boom".getBytes());
      case "silent" -> answer(exchange, 204, "text/plain", new byte[0]);
      default -> answer(exchange, 200, "application/json",
          JSON.writeValueAsBytes(Map.of("echo", request.get("data"))));
    }
  }

  private static void answer(HttpExchange exchange, int status, String type, byte[] body)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Test
  void theAppGetsASignedRequestAndItsAnswerIsTheReply() throws Exception {
    WsClient client = cluster.connect(forwarding, "hank");
    client.send("{\"kind\":\"json\",\"n\":1}");
    assertEquals(JSON.readTree("{\"echo\":{\"kind\":\"json\",\"n\":1}}"), JSON.readTree(client.nextText()));
    JsonNode request = received.poll(10, TimeUnit.SECONDS);
    assertEquals("json", request.get("dataType").asText());
    assertEquals("hank", request.get("user").get("id").asText());
    assertEquals("hank", request.get("user").get("claims").get("sub").asText());
    assertTrue(request.get("user").get("claims").get("exp").isNumber(), "claims as in the token");
    assertFalse(request.get("connectionId").asText().isEmpty());
    assertFalse(request.get("requestId").asText().isEmpty());

    client.send("{\"kind\":\"text\"}");
    assertEquals("plain ✓", client.nextText());
    client.send("{\"kind\":\"binary\"}");
    assertArrayEquals(new byte[] {1, 2, 3}, client.nextBinary());
    client.send("{\"kind\":\"refuse\"}");
    assertEquals("not allowed", JSON.readTree(client.nextText()).get("error").asText());
    client.send("{\"kind\":\"crash\"}");
    assertEquals("handler answered HTTP 500", JSON.readTree(client.nextText()).get("error").asText());
    client.send("{\"kind\":\"silent\"}");
    client.send("{\"kind\":\"json\",\"after\":\"silent\"}");
    assertEquals("silent", JSON.readTree(client.nextText()).get("echo").get("after").asText(),
        "a 204 gives no reply");
    client.close();
  }

  @Test
  void requestsReuseTheHttpConnections() throws Exception {
    WsClient client = cluster.connect(forwarding, "pooled");
    clientPorts.clear();
    for (int i = 0; i < 20; i++) {
      client.send("{\"i\":" + i + "}");
      assertEquals(i, JSON.readTree(client.nextText()).get("echo").get("i").asInt());
    }
    assertTrue(clientPorts.size() <= 2, "20 requests used " + clientPorts.size() + " connections");
    client.close();
  }

  @Test
  void stringAndBinaryDataAreForwardedAsTextAndBase64() throws Exception {
    String url = "http://127.0.0.1:" + app.getAddress().getPort() + "/handle";
    received.clear();
    new HttpForwardingHandler(url, SECRET, DataType.STRING, Duration.ofSeconds(5))
        .handle(new SocketRequest("c", "raw {text", "r1", null), null)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    JsonNode text = received.poll(10, TimeUnit.SECONDS);
    assertEquals("string", text.get("dataType").asText());
    assertEquals("raw {text", text.get("data").asText());
    assertTrue(text.get("user").isNull(), "an anonymous connection has no user");

    new HttpForwardingHandler(url, SECRET, DataType.BINARY, Duration.ofSeconds(5))
        .handle(new SocketRequest("c", new byte[] {0, (byte) 255}, "r2", null), null)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    JsonNode binary = received.poll(10, TimeUnit.SECONDS);
    assertEquals("binary", binary.get("dataType").asText());
    assertArrayEquals(new byte[] {0, (byte) 255},
        java.util.Base64.getDecoder().decode(binary.get("data").asText()));
  }

  @Test
  void anUnreachableHandlerGivesAnError() throws Exception {
    int closed = TestCluster.freePort();
    HttpForwardingHandler handler =
        new HttpForwardingHandler("http://127.0.0.1:" + closed + "/x", SECRET, DataType.JSON,
            Duration.ofSeconds(5));
    Throwable error =
        handler.handle(new SocketRequest("c", JSON.readTree("{}"), "r", null), null)
            .toCompletableFuture()
            .handle((ok, e) -> e)
            .get(30, TimeUnit.SECONDS);
    assertEquals("handler unreachable", error.getCause().getMessage());
  }

  @Test
  void anInNodeHandlerSendsToAllDevicesOfTheUserAndRepliesToOne() throws Exception {
    SocketHandler handler =
        (request, socket) -> {
          String op = ((JsonNode) request.data()).get("op").asText();
          return switch (op) {
            case "all" -> socket.send(Map.of("to", "all")).thenApply(n -> Map.of("devices", n));
            case "online" -> socket.isOnline("nobody").thenApply(online -> Map.of("online", online));
            case "others" -> socket.to(java.util.List.of("other")).send("from " + request.user().id())
                .thenApply(counts -> counts.get("other"));
            default -> CompletableFuture.completedFuture("just you");
          };
        };
    try (TestCluster other = new TestCluster()) {
      Switchboard node = other.startNode(Map.of(), handler);
      other.awaitMembersUp(1);
      WsClient phone = other.connect(node, "ida");
      WsClient laptop = other.connect(node, "ida");
      WsClient friend = other.connect(node, "other");
      TestCluster.await("ida has two devices",
          () -> other.get(node, "/v1/users/ida/presence").body().get("connections").size() == 2);

      phone.send("{\"op\":\"all\"}");
      assertEquals("{\"to\":\"all\"}", laptop.nextText());
      java.util.List<String> onPhone = java.util.List.of(phone.nextText(), phone.nextText());
      assertTrue(onPhone.containsAll(java.util.List.of("{\"to\":\"all\"}", "{\"devices\":2}")),
          onPhone.toString());

      phone.send("{\"op\":\"reply\"}");
      assertEquals("just you", phone.nextText());
      phone.send("{\"op\":\"online\"}");
      assertEquals("{\"online\":false}", phone.nextText());
      phone.send("{\"op\":\"others\"}");
      assertEquals("from ida", friend.nextText());
      assertEquals("1", phone.nextText());
      assertEquals(0, laptop.pending(), "replies go to the asking device only");
      phone.close();
      laptop.close();
      friend.close();
    }
  }

  @Test
  void aClientThatFloodsASlowHandlerIsClosedWith1013() throws Exception {
    try (TestCluster other = new TestCluster()) {
      Switchboard node =
          other.startNode(
              Map.of("switchboard.handler.timeout", "1s",
                  "switchboard.handler.max-in-flight", 4,
                  "switchboard.handler.max-queued", 8),
              (request, socket) -> new CompletableFuture<>());
      other.awaitMembersUp(1);
      WsClient flooder = other.connect(node, "flooder");
      Thread sender =
          new Thread(() -> {
            for (int i = 0; i < 100_000 && !flooder.isClosed(); i++) {
              try {
                flooder.socket().sendText("{}", true).get(30, TimeUnit.SECONDS);
              } catch (Exception e) {
                return; // closed under us: that is the point
              }
            }
          });
      sender.setDaemon(true);
      sender.start();
      assertEquals(1013, flooder.awaitClose().code());
      TestCluster.await("the flooder's connection is gone", () -> node.connectionCount() == 0);
    }
  }

  /** A handler found with ServiceLoader through the context class loader. */
  public static final class ShoutingHandler implements SocketHandler {
    @Override
    public CompletableFuture<Object> handle(SocketRequest request, RequestSocket socket) {
      return CompletableFuture.completedFuture(request.data().toString().toUpperCase());
    }
  }

  @Test
  void aHandlerIsFoundWithServiceLoader(@TempDir Path dir) throws Exception {
    Path services = dir.resolve("META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve(SocketHandler.class.getName()), ShoutingHandler.class.getName());
    ClassLoader previous = Thread.currentThread().getContextClassLoader();
    try (java.net.URLClassLoader loader =
            new java.net.URLClassLoader(new java.net.URL[] {dir.toUri().toURL()}, previous);
        TestCluster other = new TestCluster()) {
      Thread.currentThread().setContextClassLoader(loader);
      Switchboard node = other.startNode(Map.of("switchboard.handler.data-type", "string"));
      Thread.currentThread().setContextClassLoader(previous);
      other.awaitMembersUp(1);
      WsClient client = other.connect(node, "loud");
      client.send("hello");
      assertEquals("HELLO", client.nextText());
      client.close();
    } finally {
      Thread.currentThread().setContextClassLoader(previous);
    }
  }
}
