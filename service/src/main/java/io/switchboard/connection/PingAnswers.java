package io.switchboard.connection;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;

/**
 * Answers a client's pings on the Netty edge, in place of Netty's WebSocket protocol handler, which
 * queues a pong for every ping whatever the client reads: a client that floods pings and reads nothing
 * would grow the socket's outgoing buffer without bound. Here, while the outgoing buffer is over its
 * limit (the channel is not writable), only the latest ping is kept and it is answered once the buffer
 * drains; RFC 6455 (5.5.3) allows answering only the most recent of several pings.
 */
final class PingAnswers extends ChannelInboundHandlerAdapter {
  /** The payload of the latest ping not yet answered, or null. */
  private ByteBuf unanswered;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof PingWebSocketFrame ping)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (ctx.channel().isWritable()) {
      ctx.writeAndFlush(new PongWebSocketFrame(ping.content()));
    } else {
      forget();
      unanswered = ping.content();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (unanswered != null && ctx.channel().isWritable()) {
      ctx.writeAndFlush(new PongWebSocketFrame(unanswered));
      unanswered = null;
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    forget();
  }

  private void forget() {
    if (unanswered != null) {
      unanswered.release();
      unanswered = null;
    }
  }
}
