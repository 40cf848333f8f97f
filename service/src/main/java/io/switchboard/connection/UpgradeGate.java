package io.switchboard.connection;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.protocol.ApiError;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;

/**
 * Checks an upgrade request before any WebSocket or actor exists: the path, that it is a WebSocket
 * upgrade at all, the node's connection limit, the page's Origin, and the token. Refusals are plain
 * HTTP answers with a JSON body (404, 400, 503, 403, 401); an accepted request goes on to the handshake
 * with the user attached to the channel.
 *
 * <p>The token is taken from, in this order: {@code Authorization: Bearer}, the {@code token} query
 * parameter, or a {@code Sec-WebSocket-Protocol} entry {@code bearer.<jwt>} (offered beside
 * {@code switchboard}, which the server selects).
 */
@ChannelHandler.Sharable
final class UpgradeGate extends ChannelInboundHandlerAdapter {
  static final AttributeKey<AuthenticatedUser> USER = AttributeKey.valueOf("switchboard.user");
  static final String SUBPROTOCOL = "switchboard";
  private static final String PROTOCOL_TOKEN_PREFIX = "bearer.";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String path;
  private final TokenVerifier verifier;
  private final boolean allowAnonymous;
  private final Set<String> allowedOrigins;
  private final int maxConnections;
  private final IntSupplier openConnections;

  /**
   * @param allowedOrigins origins whose pages may connect, lower case; empty: any
   * @param openConnections sockets the node holds now, this one included
   */
  UpgradeGate(
      String path,
      TokenVerifier verifier,
      boolean allowAnonymous,
      List<String> allowedOrigins,
      int maxConnections,
      IntSupplier openConnections) {
    this.path = path;
    this.verifier = verifier;
    this.allowAnonymous = allowAnonymous;
    this.allowedOrigins = allowedOrigins.stream().map(UpgradeGate::normalize).collect(Collectors.toSet());
    this.maxConnections = maxConnections;
    this.openConnections = openConnections;
  }

  private static String normalize(String origin) {
    String lower = origin.trim().toLowerCase(Locale.ROOT);
    return lower.endsWith("/") ? lower.substring(0, lower.length() - 1) : lower;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest request)) {
      ctx.fireChannelRead(msg);
      return;
    }
    boolean passed = false;
    try {
      if (!request.decoderResult().isSuccess()) {
        refuse(ctx, HttpResponseStatus.BAD_REQUEST, "malformed HTTP request", "bad_request");
        return;
      }
      QueryStringDecoder uri = new QueryStringDecoder(request.uri());
      if (!uri.path().equals(path)) {
        refuse(ctx, HttpResponseStatus.NOT_FOUND,
            "no such path; the WebSocket endpoint is " + path, "not_found");
        return;
      }
      if (!request.method().equals(HttpMethod.GET)
          || !request.headers()
              .containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
        refuse(ctx, HttpResponseStatus.BAD_REQUEST,
            "expected a WebSocket upgrade request (GET with Upgrade: websocket)", "not_websocket");
        return;
      }
      if (openConnections.getAsInt() > maxConnections) {
        refuse(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE,
            "this node holds its maximum of connections; try another node or later", "node_full");
        return;
      }
      String origin = request.headers().get(HttpHeaderNames.ORIGIN);
      if (origin != null && !allowedOrigins.isEmpty() && !allowedOrigins.contains(normalize(origin))) {
        refuse(ctx, HttpResponseStatus.FORBIDDEN, "origin not allowed: " + origin, "origin_not_allowed");
        return;
      }
      String token = token(request, uri);
      if (token == null && !allowAnonymous) {
        refuse(ctx, HttpResponseStatus.UNAUTHORIZED, "missing token", "unauthorized");
        return;
      }
      if (token != null) {
        TokenVerifier.Result result = verifier.verify(token);
        if (result instanceof TokenVerifier.Rejected rejected) {
          refuse(ctx, HttpResponseStatus.UNAUTHORIZED, rejected.reason(), "unauthorized");
          return;
        }
        ctx.channel().attr(USER).set(((TokenVerifier.Verified) result).user());
      }
      passed = true;
      ctx.fireChannelRead(request);
    } finally {
      if (!passed) {
        ReferenceCountUtil.release(request);
      }
    }
  }

  /** The token of the request, "" when one was offered in a malformed way, null when none was. */
  private static String token(FullHttpRequest request, QueryStringDecoder uri) {
    String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (authorization != null) {
      return authorization.regionMatches(true, 0, "Bearer ", 0, 7)
          ? authorization.substring(7).trim()
          : "";
    }
    List<String> query = uri.parameters().get("token");
    if (query != null && !query.isEmpty()) {
      return query.get(0);
    }
    for (String header : request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)) {
      for (String entry : header.split(",")) {
        String trimmed = entry.trim();
        if (trimmed.startsWith(PROTOCOL_TOKEN_PREFIX)) {
          return trimmed.substring(PROTOCOL_TOKEN_PREFIX.length());
        }
      }
    }
    return null;
  }

  private static void refuse(
      ChannelHandlerContext ctx, HttpResponseStatus status, String error, String code) {
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(new ApiError(error, code));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    if (status.equals(HttpResponseStatus.UNAUTHORIZED)) {
      response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
    }
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }
}
