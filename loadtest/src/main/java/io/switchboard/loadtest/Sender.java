package io.switchboard.loadtest;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends to users through a server's HTTP API at a fixed arrival rate (open loop): send i is due at
 * {@code start + i / rate} whether or not earlier ones have been answered, and its payload carries that
 * due time, so a server (or a generator) that falls behind shows as latency, not as a slower rate. Like
 * a backend's pooled HTTP client it keeps at most {@link #CONNECTIONS_PER_NODE} requests in flight to
 * one node, one per keep-alive connection, and queues the rest. A send that would exceed
 * {@code maxInFlight} unanswered or queued requests is skipped and counted: the rate was not held.
 *
 * <p>HTTP/1.1 on Netty, one event loop: the JDK's {@code HttpClient} spent about 0.6 ms of CPU per
 * request here (its executor and selector threads), more than either server spends per send, on the
 * same two cores as the servers.
 */
final class Sender {
  /**
   * A backend's HTTP client keeps a bounded pool per host. An unbounded one opens a connection per
   * waiting request when answers slow down, and each new connection costs the server far more than a
   * send on an open one (Pekko HTTP materializes a stream per connection).
   */
  static final int CONNECTIONS_PER_NODE = 64;
  /** Unanswered this long after the last send of a step: counted as failed. */
  private static final long ANSWER_WAIT_SECONDS = 30;
  /** One thread does all the sending's I/O; the pools are touched only on it, so they need no locks. */
  private static final EventLoopGroup LOOP =
      new NioEventLoopGroup(1, new DefaultThreadFactory("sender", true));
  private final String apiKey;
  private final int users;
  private final int[] numbers;
  private final int maxInFlight;
  private final int connectionsPerNode;
  /** Per node, kept across steps so that each step sends on connections already open. */
  private final Pool[] pools;
  /** Filler added to each payload ({@code "p"}), to send messages of a given size. */
  private final String padding;

  /**
   * Sends to {@code users} users u0..; the users' devices are on the nodes in blocks (user i's on node
   * {@code i * nodes / users}), and a send to user i goes through the API of node
   * {@code (that + shift) % nodes}; each payload is padded to about {@code size} bytes (0: none).
   */
  Sender(List<URI> apis, String apiKey, int users, int maxInFlight, int size) {
    this(apis, apiKey, users, maxInFlight, size, CONNECTIONS_PER_NODE);
  }

  /** As above, with at most {@code connectionsPerNode} requests in flight to one node (0: no bound). */
  Sender(List<URI> apis, String apiKey, int users, int maxInFlight, int size, int connectionsPerNode) {
    this.connectionsPerNode = connectionsPerNode;
    this.apiKey = "Bearer " + apiKey;
    this.users = users;
    this.numbers = new int[users];
    this.maxInFlight = maxInFlight;
    this.padding = size > 0 ? ",\"p\":\"" + "x".repeat(size) + "\"" : "";
    this.pools = new Pool[apis.size()];
    for (int n = 0; n < pools.length; n++) {
      pools[n] = new Pool(apis.get(n));
    }
  }

  /**
   * What one step sent: requests answered 200, other answers and failures (unanswered after 30 s
   * included), sends skipped for too many in flight, and how long the sending took.
   */
  record Sent(long ok, long errors, long skipped, double seconds, String firstError) {
    double rate() {
      return ok / seconds;
    }
  }

  /**
   * Sends at {@code rate} per second for {@code seconds}, round-robin over the users; {@code shift} 1
   * with several nodes sends every message through a node other than the one its user's devices are on.
   * At most {@code connectionsPerNode} requests are in flight to one node, as through a backend's pooled
   * HTTP client; a send due while all are busy waits for one (its latency still counts from its due
   * time), and one due while {@code maxInFlight} are sent or waiting is skipped.
   */
  Sent run(double rate, double seconds, int shift) throws InterruptedException {
    Step step = new Step();
    long skipped = 0;
    long start = System.nanoTime();
    long count = (long) (rate * seconds);
    double interval = 1e9 / rate;
    for (long i = 0; i < count; i++) {
      long due = start + (long) (i * interval);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      if (step.inFlight.get() >= maxInFlight) {
        skipped++;
        continue;
      }
      int user = (int) (i % users);
      int number = numbers[user]++;
      int node = (int) ((long) user * pools.length / users);
      Pool pool = pools[(node + shift) % pools.length];
      Request request = new Request(step, "/v1/users/u" + user + "/messages",
          ("{\"n\":" + number + ",\"t\":" + due + padding + "}").getBytes(StandardCharsets.UTF_8));
      step.inFlight.incrementAndGet();
      LOOP.execute(() -> pool.submit(request));
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ANSWER_WAIT_SECONDS);
    while (step.inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return new Sent(step.ok.get(), step.errors.get() + step.inFlight.get(), skipped, elapsed,
        step.firstError.get());
  }

  /** One step's counts. */
  private static final class Step {
    final AtomicLong ok = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    /** Sent and unanswered, or waiting for a connection. */
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicReference<String> firstError = new AtomicReference<>();
  }

  /** One send: the step it counts in, its path and body. */
  private record Request(Step step, String path, byte[] body) {
    void answered(int status) {
      step.inFlight.decrementAndGet();
      if (status == 200) {
        step.ok.incrementAndGet();
      } else {
        failed("HTTP " + status);
      }
    }

    void failed(String why) {
      step.inFlight.decrementAndGet();
      step.errors.incrementAndGet();
      step.firstError.compareAndSet(null, why);
    }
  }

  /**
   * The keep-alive connections to one node, one request at a time on each (no pipelining): at most
   * {@code connectionsPerNode} of them, and the requests beyond in order behind. Used on {@link #LOOP}
   * only.
   */
  private final class Pool {
    private final Bootstrap bootstrap;
    private final String host;
    private final ArrayDeque<Channel> idle = new ArrayDeque<>();
    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    /** Connections open or opening. */
    private int open;

    Pool(URI api) {
      this.host = api.getHost() + ":" + api.getPort();
      this.bootstrap = new Bootstrap()
          .group(LOOP)
          .channel(NioSocketChannel.class)
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
          .remoteAddress(api.getHost(), api.getPort())
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel channel) {
              channel.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 16),
                  new Connection(Pool.this));
            }
          });
    }

    void submit(Request request) {
      Channel channel;
      while ((channel = idle.poll()) != null) {
        if (channel.isActive()) {
          write(channel, request);
          return;
        }
      }
      if (connectionsPerNode > 0 && open >= connectionsPerNode) {
        waiting.add(request);
        return;
      }
      open++;
      ChannelFuture connecting = bootstrap.connect();
      connecting.addListener(f -> {
        if (f.isSuccess()) {
          write(connecting.channel(), request);
        } else {
          open--;
          request.failed(f.cause().toString());
          next();
        }
      });
    }

    private void write(Channel channel, Request request) {
      channel.pipeline().get(Connection.class).current = request;
      FullHttpRequest http = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
          request.path(), Unpooled.wrappedBuffer(request.body()));
      http.headers()
          .set(HttpHeaderNames.HOST, host)
          .set(HttpHeaderNames.AUTHORIZATION, apiKey)
          .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
          .setInt(HttpHeaderNames.CONTENT_LENGTH, request.body().length);
      channel.writeAndFlush(http, channel.voidPromise());
    }

    /** A connection free again: the next waiting request goes on it, or it waits for one. */
    void free(Channel channel) {
      Request next = waiting.poll();
      if (next != null) {
        write(channel, next);
      } else {
        idle.add(channel);
      }
    }

    /** A connection gone: one waiting request (if any) gets a new one in its place. */
    void closed(Channel channel) {
      open--;
      idle.remove(channel);
      next();
    }

    private void next() {
      Request next = waiting.poll();
      if (next != null) {
        submit(next);
      }
    }
  }

  /** One connection's handler: the request it carries, answered by the next response. */
  private static final class Connection extends SimpleChannelInboundHandler<FullHttpResponse> {
    private final Pool pool;
    Request current;

    Connection(Pool pool) {
      this.pool = pool;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      Request request = current;
      current = null;
      if (request != null) {
        request.answered(response.status().code());
      }
      if (HttpUtil.isKeepAlive(response)) {
        pool.free(ctx.channel());
      } else {
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      failCurrent("connection closed before the answer");
      pool.closed(ctx.channel());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      failCurrent(cause.toString());
      ctx.close();
    }

    private void failCurrent(String why) {
      Request request = current;
      current = null;
      if (request != null) {
        request.failed(why);
      }
    }
  }
}
