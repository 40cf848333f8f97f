package io.switchboard.connection;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.cluster.RandomIds;
import io.switchboard.handler.InboundFrame;
import io.switchboard.presence.ToConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins one Netty channel to its {@link ConnectionActor}: makes the actor when the handshake completes,
 * hands it every complete client message, tells it when the socket closes, and keeps a quiet socket
 * alive with pings (closing it with 1001 when nothing at all has been read for the idle timeout).
 */
final class SocketBridge extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(SocketBridge.class);
  /** Messages a client may send between the 101 answer and its actor's start. */
  private static final int MAX_EARLY_MESSAGES = 16;

  private final ConnectionOpener opener;
  private final int pingsBeforeClose;
  private NettySocket socket;
  private ActorRef<ToConnection> actor;
  private List<InboundFrame> early = new ArrayList<>();
  private int idleEvents;

  /** Counts the closes this bridge decides (idle, too big), by code. */
  private final IntConsumer closes;
  private final int queueLimit;

  SocketBridge(
      ConnectionOpener opener,
      Duration pingInterval,
      Duration idleTimeout,
      int queueLimit,
      IntConsumer closes) {
    this.opener = opener;
    this.queueLimit = queueLimit;
    this.closes = closes;
    this.pingsBeforeClose =
        (int) Math.max(1, idleTimeout.toMillis() / Math.max(1, pingInterval.toMillis()));
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
      socket = new NettySocket(ctx.channel(), queueLimit);
      boolean envelope = ctx.channel().hasAttr(UpgradeGate.ENVELOPE);
      actor = opener.open(RandomIds.next(), ctx.channel().attr(UpgradeGate.USER).get(),
          envelope ? new EnvelopeSocket(socket) : socket);
      early.forEach(frame -> actor.tell(new ConnectionActor.FromClient(frame)));
      early = null;
    } else if (event instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE) {
      idleEvents = idle.isFirst() ? 1 : idleEvents + 1;
      if (idleEvents < pingsBeforeClose) {
        if (socket != null) {
          ctx.writeAndFlush(new PingWebSocketFrame());
        }
      } else if (socket != null) {
        EdgeClose.IDLE.apply(socket, closes);
      } else {
        ctx.close();
      }
    } else {
      ctx.fireUserEventTriggered(event);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      InboundFrame frame;
      if (msg instanceof TextWebSocketFrame text) {
        frame = InboundFrame.text(text.text());
      } else if (msg instanceof BinaryWebSocketFrame binary) {
        frame = InboundFrame.binary(ByteBufUtil.getBytes(binary.content()));
      } else {
        return;
      }
      if (socket != null && socket.isClosing()) {
        return;
      }
      if (actor != null) {
        actor.tell(new ConnectionActor.FromClient(frame));
      } else if (early != null && early.size() < MAX_EARLY_MESSAGES) {
        early.add(frame);
      } else {
        ctx.close();
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (actor != null) {
      actor.tell(ConnectionActor.SocketClosed.INSTANCE);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException && socket != null) {
      EdgeClose.TOO_BIG.apply(socket, closes);
      return;
    }
    log.debug("socket error, closing {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
