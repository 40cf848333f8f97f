package io.switchboard.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler.ClientHandshakeStateEvent;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One load-generator process: holds {@code count} WebSocket clients (users {@code first ..}, each with
 * {@code devices} connections) to one server from one source address, on two Netty event-loop threads.
 * It reports on stdout, one JSON line each: a status every second, and a full report (counts and the
 * latency histogram since the last report) when "report" arrives on stdin; "quit" ends it.
 *
 * <p>Each message carries {@code "n"} (the user's message number) and {@code "t"} (the send's intended
 * {@code System.nanoTime()}, the same monotonic clock in every process on Linux): latency is receipt
 * minus {@code t}; a number seen twice on one device is a duplicate.
 */
public final class Worker {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Latency in microseconds, up to 60 s, 3 significant digits. */
  private static final long MAX_MICROS = TimeUnit.SECONDS.toMicros(60);

  private final Protocol protocol;
  private final URI uri;
  private final String source;
  private final Jwt jwt;
  private final EventLoopGroup group = new NioEventLoopGroup(2);
  private final SslContext tls;
  private final Recorder latency = new Recorder(MAX_MICROS, 3);
  /** The same, for the status line's p50/p99 of the last second. */
  private final Recorder recent = new Recorder(MAX_MICROS, 3);
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicInteger closed = new AtomicInteger();
  private final AtomicLong total = new AtomicLong();
  private final AtomicLong distinct = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong lastOpenNanos = new AtomicLong();
  /** When the first connect went out. */
  private volatile long startNanos = System.nanoTime();
  /** False: every client stops reading once open (a slow consumer that never reads again). */
  private volatile boolean reading = true;
  private final AtomicReference<String> failure = new AtomicReference<>();

  private Worker(Protocol protocol, URI uri, String source, String secret) throws Exception {
    this.protocol = protocol;
    this.uri = protocol.socketUri(uri);
    this.source = source;
    this.jwt = new Jwt(secret);
    this.tls =
        uri.getScheme().equals("wss")
            ? SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build()
            : null;
  }

  /**
   * Arguments: protocol, server URI, source address, JWT secret, first user index, users, devices per
   * user, connects per second (0: all at once), optionally "noread" (clients stop reading once open),
   * and optionally when to start connecting, a {@code System.nanoTime()} (the same clock in every process
   * here), so that several workers start a storm together.
   */
  public static void main(String[] args) throws Exception {
    Worker worker = new Worker(Protocol.parse(args[0]), URI.create(args[1]), args[2], args[3]);
    int first = Integer.parseInt(args[4]);
    int users = Integer.parseInt(args[5]);
    int devices = Integer.parseInt(args[6]);
    int perSecond = Integer.parseInt(args[7]);
    worker.reading = args.length < 9 || !args[8].equals("noread");
    long startAt = args.length > 9 ? Long.parseLong(args[9]) : 0;
    worker.group.scheduleAtFixedRate(worker::status, 1, 1, TimeUnit.SECONDS);
    worker.connectAll(first, users, devices, perSecond, startAt);
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = commands.readLine()) != null; ) {
      if (line.equals("report")) {
        worker.report();
      } else if (line.equals("quit")) {
        break;
      }
    }
    worker.group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    System.exit(0);
  }

  /**
   * Opens the connections, {@code perSecond} at a time each second (spread over 10 ms ticks), or all at
   * once from {@code startAt} (a {@code System.nanoTime()}; 0: now).
   */
  private void connectAll(int first, int users, int devices, int perSecond, long startAt)
      throws InterruptedException {
    Bootstrap bootstrap =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000)
            .option(ChannelOption.TCP_NODELAY, true)
            .localAddress(new InetSocketAddress(source, 0));
    int total = users * devices;
    if (perSecond <= 0) {
      // Signed before the clock starts: a storm measures the server, not the generator signing tokens.
      String[] tokens = new String[users];
      for (int u = 0; u < users; u++) {
        tokens[u] = jwt.sign("u" + (first + u));
      }
      long wait = startAt - System.nanoTime();
      if (startAt != 0 && wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      startNanos = System.nanoTime();
      for (int i = 0; i < total; i++) {
        connect(bootstrap, tokens[i / devices]);
      }
      return;
    }
    startNanos = System.nanoTime();
    int perTick = Math.max(1, perSecond / 100);
    AtomicInteger next = new AtomicInteger();
    group.scheduleAtFixedRate(
        () -> {
          for (int k = 0; k < perTick; k++) {
            int i = next.getAndIncrement();
            if (i >= total) {
              return;
            }
            connect(bootstrap, jwt.sign("u" + (first + i / devices)));
          }
        },
        0, 10, TimeUnit.MILLISECONDS);
  }

  private void connect(Bootstrap bootstrap, String token) {
    int port = uri.getPort() > 0 ? uri.getPort() : (tls != null ? 443 : 80);
    bootstrap
        .clone()
        .handler(
            new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel channel) {
                if (tls != null) {
                  channel.pipeline().addLast(tls.newHandler(channel.alloc(), uri.getHost(), port));
                }
                channel
                    .pipeline()
                    .addLast(
                        new HttpClientCodec(),
                        new HttpObjectAggregator(65_536),
                        new WebSocketClientProtocolHandler(
                            WebSocketClientProtocolConfig.newBuilder()
                                .webSocketUri(uri)
                                .customHeaders(protocol.upgradeHeaders(token))
                                .handshakeTimeoutMillis(60_000)
                                .maxFramePayloadLength(1 << 20)
                                .build()),
                        new Device(token));
              }
            })
        .connect(uri.getHost(), port)
        .addListener(
            future -> {
              if (!future.isSuccess()) {
                fail(future.cause());
              }
            });
  }

  private void fail(Throwable cause) {
    failed.incrementAndGet();
    if (cause != null) {
      failure.compareAndSet(null, cause.toString());
    }
  }

  /** One client connection: counts messages, detects duplicates, records latency. */
  private final class Device extends SimpleChannelInboundHandler<WebSocketFrame> {
    private final String token;
    private final BitSet seen = new BitSet();
    private boolean opened;

    Device(String token) {
      this.token = token;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event == ClientHandshakeStateEvent.HANDSHAKE_COMPLETE && protocol == Protocol.SWITCHBOARD) {
        opened();
        stopReadingIfAsked(ctx.channel());
      } else if (event == ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
        fail(new IllegalStateException("handshake timeout"));
      }
      super.userEventTriggered(ctx, event);
    }

    private void stopReadingIfAsked(Channel channel) {
      if (!reading) {
        channel.config().setAutoRead(false);
      }
    }

    private void opened() {
      opened = true;
      open.incrementAndGet();
      lastOpenNanos.accumulateAndGet(System.nanoTime(), Math::max);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
      if (!(frame instanceof TextWebSocketFrame)) {
        return;
      }
      ByteBuf content = frame.content();
      if (protocol == Protocol.SOCKETIO && !socketIo(ctx.channel(), content)) {
        return;
      }
      received(content);
    }

    /** Engine.IO/Socket.IO framing; true when the frame is an event to count. */
    private boolean socketIo(Channel channel, ByteBuf content) {
      int start = content.readerIndex();
      byte type = content.getByte(start);
      if (type == '0') {
        channel.writeAndFlush(new TextWebSocketFrame("40{\"token\":\"" + token + "\"}"));
      } else if (type == '2') {
        channel.writeAndFlush(new TextWebSocketFrame("3"));
      } else if (type == '4' && content.readableBytes() > 1) {
        byte packet = content.getByte(start + 1);
        if (packet == '0' && !opened) {
          opened();
          stopReadingIfAsked(channel);
        } else if (packet == '4') {
          fail(new IllegalStateException(content.toString(StandardCharsets.UTF_8)));
          channel.close();
        } else if (packet == '2') {
          return true;
        }
      }
      return false;
    }

    private void received(ByteBuf content) {
      long n = number(content, "\"n\":");
      long t = number(content, "\"t\":");
      if (n < 0 || t < 0) {
        return;
      }
      total.incrementAndGet();
      if (seen.get((int) n)) {
        duplicates.incrementAndGet();
        return;
      }
      seen.set((int) n);
      distinct.incrementAndGet();
      long micros = (System.nanoTime() - t) / 1000;
      long value = Math.max(0, Math.min(micros, MAX_MICROS));
      latency.recordValue(value);
      recent.recordValue(value);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      if (opened) {
        open.decrementAndGet();
        closed.incrementAndGet();
      } else {
        fail(new IllegalStateException("closed before it opened"));
      }
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (!opened) {
        fail(cause);
      }
      ctx.close();
    }
  }

  /** The non-negative integer after {@code key} in the frame, or -1. */
  static long number(ByteBuf content, String key) {
    int end = content.writerIndex();
    int at = indexOf(content, key);
    if (at < 0) {
      return -1;
    }
    long value = 0;
    int digits = 0;
    for (int i = at + key.length(); i < end; i++) {
      byte b = content.getByte(i);
      if (b < '0' || b > '9') {
        break;
      }
      value = value * 10 + (b - '0');
      digits++;
    }
    return digits == 0 ? -1 : value;
  }

  private static int indexOf(ByteBuf content, String key) {
    int end = content.writerIndex() - key.length();
    outer:
    for (int i = content.readerIndex(); i <= end; i++) {
      for (int k = 0; k < key.length(); k++) {
        if (content.getByte(i + k) != key.charAt(k)) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private void status() {
    Map<String, Object> line = counts("status");
    Histogram lastSecond = recent.getIntervalHistogram();
    line.put("p50ms", lastSecond.getValueAtPercentile(50) / 1000.0);
    line.put("p99ms", lastSecond.getValueAtPercentile(99) / 1000.0);
    print(line);
  }

  private void report() {
    Map<String, Object> line = counts("report");
    line.put("histogram", encode(latency.getIntervalHistogram()));
    line.put("startNanos", startNanos);
    line.put("lastOpenNanos", lastOpenNanos.get());
    line.put("failure", failure.get());
    print(line);
  }

  private Map<String, Object> counts(String event) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("event", event);
    line.put("open", open.get());
    line.put("failed", failed.get());
    line.put("closed", closed.get());
    line.put("received", total.get());
    line.put("distinct", distinct.get());
    line.put("duplicates", duplicates.get());
    return line;
  }

  static String encode(Histogram histogram) {
    ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
    int length = histogram.encodeIntoCompressedByteBuffer(buffer, Deflater.BEST_SPEED);
    return Base64.getEncoder().encodeToString(Arrays.copyOf(buffer.array(), length));
  }

  static Histogram decode(String base64) {
    try {
      return Histogram.decodeFromCompressedByteBuffer(
          ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
    } catch (DataFormatException e) {
      throw new IllegalArgumentException("not a histogram", e);
    }
  }

  private static void print(Map<String, Object> line) {
    try {
      String text = JSON.writeValueAsString(line);
      synchronized (System.out) {
        System.out.println(text);
        System.out.flush();
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
