package io.switchboard.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.protocol.ForwardedRequest;
import io.switchboard.protocol.Signatures;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The handler for apps in any language: each client message is POSTed as a {@link ForwardedRequest} to
 * {@code HANDLER_URL}, signed (see {@link Signatures}). A 2xx answer's body, if any, is the reply (its
 * content type decides: JSON, text, else binary); any other status or a connection error becomes an
 * error for the client. One HTTP client per node: its HTTP/1.1 connections are kept alive and reused.
 */
public final class HttpForwardingHandler implements SocketHandler {
  public static final String REQUEST_ID_HEADER = "X-Switchboard-Request-Id";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI url;
  private final String secret;
  private final DataType dataType;
  private final Duration timeout;
  private final HttpClient http;

  public HttpForwardingHandler(String url, String secret, DataType dataType, Duration timeout) {
    this.url = URI.create(url);
    this.secret = secret;
    this.dataType = dataType;
    this.timeout = timeout;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .build();
  }

  @Override
  public CompletionStage<OutboundMessage> handle(SocketRequest request, RequestSocket socket)
      throws IOException {
    JsonNode data =
        switch (dataType) {
          case JSON -> (JsonNode) request.data();
          case STRING -> TextNode.valueOf((String) request.data());
          case BINARY -> TextNode.valueOf(Base64.getEncoder().encodeToString((byte[]) request.data()));
        };
    ForwardedRequest.User user =
        request.user() == null
            ? null
            : new ForwardedRequest.User(request.user().id(), request.user().claims());
    byte[] body =
        JSON.writeValueAsBytes(
            new ForwardedRequest(
                request.connection(), request.requestId(), user, dataType.wireName(), data));
    long timestamp = System.currentTimeMillis() / 1000;
    HttpRequest post =
        HttpRequest.newBuilder(url)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header(REQUEST_ID_HEADER, request.requestId())
            .header(Signatures.TIMESTAMP_HEADER, Long.toString(timestamp))
            .header(Signatures.SIGNATURE_HEADER, Signatures.sign(secret, timestamp, body))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    return http.sendAsync(post, HttpResponse.BodyHandlers.ofByteArray())
        .handle(
            (response, error) -> {
              if (error != null) {
                throw new CompletionException(new HandlerFailure("handler unreachable"));
              }
              return reply(response);
            });
  }

  private static OutboundMessage reply(HttpResponse<byte[]> response) {
    String contentType = response.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
    byte[] body = response.body();
    if (response.statusCode() / 100 != 2) {
      throw new CompletionException(new HandlerFailure(errorOf(response.statusCode(), contentType, body)));
    }
    if (body.length == 0) {
      return null;
    }
    if (contentType.startsWith("application/json")) {
      try {
        return OutboundMessage.json(JSON.readTree(body));
      } catch (IOException e) {
        throw new CompletionException(new HandlerFailure("handler answered invalid JSON"));
      }
    }
    if (contentType.startsWith("text/")) {
      return OutboundMessage.text(new String(body, java.nio.charset.StandardCharsets.UTF_8));
    }
    return OutboundMessage.binary(body);
  }

  /** The app's own {"error": "..."} when it answered with one, else the status. */
  private static String errorOf(int status, String contentType, byte[] body) {
    if (contentType.startsWith("application/json")) {
      try {
        JsonNode error = JSON.readTree(body).get("error");
        if (error != null && error.isTextual()) {
          return error.asText();
        }
      } catch (IOException e) {
        // not JSON after all: fall through to the status
      }
    }
    return "handler answered HTTP " + status;
  }

  /** A failure whose message is what the client is told. */
  static final class HandlerFailure extends RuntimeException {
    HandlerFailure(String message) {
      super(message, null, false, false);
    }
  }
}
