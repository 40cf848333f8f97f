package io.switchboard.connection;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.config.SwitchboardSettings;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The client-facing WebSocket listener on Netty, the default edge: per idle connection it holds less
 * than a quarter of the Pekko HTTP edge's live heap (BENCHMARKS.md, section 1). Nothing past {@link Socket} and
 * {@link ConnectionOpener} knows which library this is.
 */
public final class WebSocketServer implements WebSocketEdge {
  /** Largest upgrade request (request line plus headers) accepted; tokens live in it. */
  private static final int MAX_UPGRADE_REQUEST = 16 * 1024;

  private final SwitchboardSettings.Wss settings;
  private final SslContext tls;
  private final UpgradeGate gate;
  private final ConnectionOpener opener;
  private final IntConsumer closes;
  private final EventLoopGroup boss = new NioEventLoopGroup(1);
  private final EventLoopGroup workers;
  private Channel listener;
  /** Sockets accepted and not yet closed (handshaking or open). */
  private final AtomicInteger open = new AtomicInteger();

  public WebSocketServer(
      SwitchboardSettings.Wss settings,
      SslContext tls,
      TokenVerifier verifier,
      boolean allowAnonymous,
      ConnectionOpener opener,
      IntConsumer closes) {
    this.closes = closes;
    this.settings = settings;
    this.tls = tls;
    this.gate =
        new UpgradeGate(new Admission(
            settings.path(),
            verifier,
            allowAnonymous,
            settings.allowedOrigins(),
            settings.maxConnections(),
            open::get));
    this.opener = opener;
    // One event loop per core by default (Netty's own default is two): at 1,000 sends/s the deliveries
    // of a send then share an event loop's wake-up more often (BENCHMARKS.md, "What limits it").
    this.workers =
        new NioEventLoopGroup(
            settings.ioThreads() > 0
                ? settings.ioThreads()
                : Runtime.getRuntime().availableProcessors());
  }

  @Override
  public int start() throws InterruptedException {
    WebSocketServerProtocolConfig protocol =
        WebSocketServerProtocolConfig.newBuilder()
            .websocketPath(settings.path())
            .checkStartsWith(true)
            .subprotocols(Admission.SUBPROTOCOL + "," + Admission.SUBPROTOCOL_V2)
            .handshakeTimeoutMillis(settings.handshakeTimeout().toMillis())
            .handleCloseFrames(true)
            .dropPongFrames(true)
            .decoderConfig(
                WebSocketDecoderConfig.newBuilder()
                    .maxFramePayloadLength(settings.maxMessageSize())
                    .allowExtensions(false)
                    .withUTF8Validator(true)
                    .build())
            .build();
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, settings.acceptBacklog())
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(
                ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(
                    settings.outgoingBufferLimit() / 2, settings.outgoingBufferLimit()))
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel channel) {
                    open.incrementAndGet();
                    channel.closeFuture().addListener(closed -> open.decrementAndGet());
                    // The whole handshake (TLS, upgrade request, upgrade) within the timeout: Netty's
                    // own handshake timeout starts only once the upgrade request is complete, which a
                    // slowloris client never lets happen. Once upgraded the HTTP codec is gone.
                    channel.eventLoop().schedule(
                        () -> {
                          if (channel.pipeline().get(HttpServerCodec.class) != null) {
                            channel.close();
                          }
                        },
                        settings.handshakeTimeout().toMillis(),
                        TimeUnit.MILLISECONDS);
                    ChannelPipeline pipeline = channel.pipeline();
                    if (tls != null) {
                      pipeline.addLast(tls.newHandler(channel.alloc()));
                    }
                    pipeline.addLast(
                        new IdleStateHandler(
                            settings.pingInterval().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
                    pipeline.addLast(new HttpServerCodec(8192, MAX_UPGRADE_REQUEST, 8192));
                    pipeline.addLast(new HttpObjectAggregator(MAX_UPGRADE_REQUEST));
                    pipeline.addLast(gate);
                    pipeline.addLast(new PingAnswers());
                    pipeline.addLast(new WebSocketServerProtocolHandler(protocol));
                    pipeline.addLast(new WebSocketFrameAggregator(settings.maxMessageSize()));
                    pipeline.addLast(
                        new SocketBridge(
                            opener, settings.pingInterval(), settings.idleTimeout(),
                            settings.outgoingQueueLimit(), closes));
                  }
                });
    listener = bootstrap.bind(settings.host(), settings.port()).sync().channel();
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  @Override
  public void stopAccepting() {
    if (listener != null) {
      listener.close().syncUninterruptibly();
    }
  }

  @Override
  public void close() {
    stopAccepting();
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
