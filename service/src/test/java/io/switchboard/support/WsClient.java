package io.switchboard.support;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A real WebSocket client (the JDK's) for tests: collects what the server sends, in order. */
public class WsClient implements WebSocket.Listener {

  /** A message from the server: exactly one of text and binary is set. */
  public record Received(String text, byte[] binary) {}

  /** The close frame the server sent. */
  public record Closed(int code, String reason) {}

  private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  private final CompletableFuture<Closed> closed = new CompletableFuture<>();
  private final StringBuilder textParts = new StringBuilder();
  private ByteBuffer binaryParts = ByteBuffer.allocate(0);
  private WebSocket socket;

  public static WsClient connect(
      HttpClient http, URI uri, Map<String, String> headers, List<String> subprotocols) {
    return new WsClient().open(http, uri, headers, subprotocols);
  }

  /** Opens the WebSocket with this listener; returns this client once the handshake completed. */
  public WsClient open(
      HttpClient http, URI uri, Map<String, String> headers, List<String> subprotocols) {
    WsClient client = this;
    WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
    headers.forEach(builder::header);
    if (!subprotocols.isEmpty()) {
      builder.subprotocols(
          subprotocols.get(0), subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
    }
    client.socket = builder.buildAsync(uri, client).orTimeout(20, TimeUnit.SECONDS).join();
    return client;
  }

  public final WebSocket socket() {
    return socket;
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    textParts.append(data);
    if (last) {
      received.add(new Received(textParts.toString(), null));
      textParts.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    ByteBuffer joined = ByteBuffer.allocate(binaryParts.remaining() + data.remaining());
    joined.put(binaryParts).put(data).flip();
    binaryParts = joined;
    if (last) {
      byte[] bytes = new byte[binaryParts.remaining()];
      binaryParts.get(bytes);
      received.add(new Received(null, bytes));
      binaryParts = ByteBuffer.allocate(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete(new Closed(statusCode, reason));
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.complete(new Closed(-1, String.valueOf(error)));
  }

  /** The next message, waiting up to 20 s. */
  public Received next() {
    try {
      Received message = received.poll(20, TimeUnit.SECONDS);
      assertNotNull(message, "no message from the server within 20 s");
      return message;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public String nextText() {
    Received message = next();
    assertNotNull(message.text(), "expected a text frame, got binary");
    return message.text();
  }

  public byte[] nextBinary() {
    Received message = next();
    assertNotNull(message.binary(), "expected a binary frame, got text: " + message.text());
    return message.binary();
  }

  /** Messages received and not yet taken. */
  public int pending() {
    return received.size();
  }

  /** The server's close frame, waiting up to 30 s. */
  public Closed awaitClose() {
    return closed.orTimeout(30, TimeUnit.SECONDS).join();
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  public void send(String text) {
    socket.sendText(text, true).join();
  }

  /** Closes from the client side with 1000 and waits for the server's close frame. */
  public void close() {
    if (!socket.isOutputClosed()) {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(10, TimeUnit.SECONDS).join();
    }
    awaitClose();
  }
}
