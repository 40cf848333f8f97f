package io.switchboard.connection;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.switchboard.cluster.OutboundMessage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link Socket} over a Netty channel. The channel's write-buffer high-water mark is the connection's
 * outgoing limit in bytes, {@code queueLimit} in messages: past either {@link #send} answers false
 * instead of queueing more.
 */
final class NettySocket implements Socket {
  /** After sending a close frame, how long the client has to answer with its own before the TCP close. */
  private static final long CLOSE_HANDSHAKE_TIMEOUT_MILLIS = 3000;

  private final Channel channel;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final int queueLimit;
  /** Messages handed to the channel and not yet written to the kernel. */
  private final AtomicInteger queued = new AtomicInteger();

  NettySocket(Channel channel, int queueLimit) {
    this.channel = channel;
    this.queueLimit = queueLimit;
  }

  @Override
  public boolean send(OutboundMessage message) {
    if (closed.get() || !channel.isActive() || !channel.isWritable() || queued.get() >= queueLimit) {
      return false;
    }
    queued.incrementAndGet();
    channel.writeAndFlush(frame(message)).addListener(written -> queued.decrementAndGet());
    return true;
  }

  private static WebSocketFrame frame(OutboundMessage message) {
    return switch (message.kind()) {
      case JSON, TEXT -> new TextWebSocketFrame(message.text());
      case BINARY -> new BinaryWebSocketFrame(Unpooled.wrappedBuffer(message.bytes()));
    };
  }

  @Override
  public void close(int code, String reason) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (channel.isActive()) {
      // No close right after the write: closing a TCP socket with unread input makes the kernel send a
      // reset, which can overtake the close frame. Netty's protocol handler closes the channel when the
      // client answers with its close frame; a client that does not is cut off after the timeout.
      // Meanwhile input is read and dropped (see isClosing).
      channel.config().setAutoRead(true);
      channel.writeAndFlush(new CloseWebSocketFrame(code, CloseReasons.truncate(reason)));
      channel.eventLoop().schedule(() -> channel.close(), CLOSE_HANDSHAKE_TIMEOUT_MILLIS,
          TimeUnit.MILLISECONDS);
    }
  }

  /** True once a close frame has been sent: what the client still sends is dropped. */
  boolean isClosing() {
    return closed.get();
  }

  @Override
  public void pauseReading() {
    channel.config().setAutoRead(false);
  }

  @Override
  public void resumeReading() {
    channel.config().setAutoRead(true);
  }
}
