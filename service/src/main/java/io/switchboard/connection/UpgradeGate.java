package io.switchboard.connection;

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
import java.util.List;

/**
 * The Netty edge's door: {@link Admission} decides each upgrade request before any WebSocket or actor
 * exists; a refusal is a plain HTTP answer with a JSON body, an accepted request goes on to the
 * handshake with the user attached to the channel (and whether it speaks protocol v2).
 */
@ChannelHandler.Sharable
final class UpgradeGate extends ChannelInboundHandlerAdapter {
  static final AttributeKey<AuthenticatedUser> USER = AttributeKey.valueOf("switchboard.user");
  /** Set (true) on protocol v2 connections only. */
  static final AttributeKey<Boolean> ENVELOPE = AttributeKey.valueOf("switchboard.envelope");

  private final Admission admission;

  UpgradeGate(Admission admission) {
    this.admission = admission;
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
        refuse(ctx, new Admission.Refused(400, "malformed HTTP request", "bad_request"));
        return;
      }
      QueryStringDecoder uri = new QueryStringDecoder(request.uri());
      List<String> token = uri.parameters().get("token");
      List<String> version = uri.parameters().get("protocol");
      Admission.Decision decision = admission.decide(new Admission.Request(
          uri.path(),
          request.method().equals(HttpMethod.GET)
              && request.headers()
                  .containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true),
          request.headers().get(HttpHeaderNames.ORIGIN),
          request.headers().get(HttpHeaderNames.AUTHORIZATION),
          token == null || token.isEmpty() ? null : token.get(0),
          version == null || version.isEmpty() ? null : version.get(0),
          request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)));
      if (decision instanceof Admission.Refused refused) {
        refuse(ctx, refused);
        return;
      }
      Admission.Admitted admitted = (Admission.Admitted) decision;
      if (admitted.user() != null) {
        ctx.channel().attr(USER).set(admitted.user());
      }
      if (admitted.envelope()) {
        ctx.channel().attr(ENVELOPE).set(Boolean.TRUE);
      }
      passed = true;
      ctx.fireChannelRead(request);
    } finally {
      if (!passed) {
        ReferenceCountUtil.release(request);
      }
    }
  }

  private static void refuse(ChannelHandlerContext ctx, Admission.Refused refused) {
    byte[] body = refused.body();
    HttpResponseStatus status = HttpResponseStatus.valueOf(refused.status());
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
