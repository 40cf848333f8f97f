package io.switchboard.connection;

import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.cluster.RandomIds;
import io.switchboard.config.SwitchboardSettings;
import io.switchboard.handler.InboundFrame;
import io.switchboard.presence.ToConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.impl.engine.ws.FrameEvent$;
import org.apache.pekko.http.impl.engine.ws.FrameHandler;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.http.impl.engine.ws.Protocol;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;
import scala.Option;

/**
 * One WebSocket on the Pekko HTTP edge, as a stage between Pekko HTTP's frame handling (below: control
 * frames, UTF-8 decoding, the close handshake) and the socket's {@link ConnectionActor}. It makes the
 * actor when it starts, hands it every complete client message, sends what the actor sends, pings a
 * quiet client and closes it with 1001 after the idle timeout, and closes with 1009 a message over the
 * limit.
 *
 * <p>It sits where Pekko HTTP's own message API would, because that API can only close with 1000 or
 * 1011: events of the frame layer ({@code FrameHandler.Output} in, {@code FrameOutHandler.Input} out)
 * are Pekko HTTP internals, which a Pekko HTTP upgrade may change.
 */
final class PekkoSocketStage extends GraphStage<FlowShape<Object, Object>> {
  /**
   * Control events (pongs, pings, closes) waiting for the client to read, past which the stage stops
   * reading: a client that floods pings and reads nothing gets TCP backpressure, not a growing queue.
   */
  private static final int MAX_PENDING_CONTROL = 16;
  /** After sending a close frame, how long the client has to answer before the TCP close. */
  private static final Duration CLOSE_HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);
  private static final FrameStart PING = FrameEvent$.MODULE$.fullFrame(
      opcode(0x9), Option.empty(), ByteString.emptyByteString(), true, false, false,
      false);

  private final Inlet<Object> in = Inlet.create("PekkoSocketStage.in");
  private final Outlet<Object> out = Outlet.create("PekkoSocketStage.out");
  private final FlowShape<Object, Object> shape = FlowShape.of(in, out);

  private final ConnectionOpener opener;
  private final AuthenticatedUser user;
  /** The connection speaks protocol v2: its frames go out in envelopes. */
  private final boolean envelope;
  private final SwitchboardSettings.Wss settings;
  private final IntConsumer closes;
  /** Millis (monotonic) of the last bytes read from the client, control frames included. */
  private final AtomicLong lastRead;
  /** The edge's count of open sockets. */
  private final AtomicInteger open;

  /**
   * @param lastRead updated by the edge below the frame layer, which sees pongs this stage does not
   * @param open the edge's count of open sockets, which this socket is in from start to stop
   */
  PekkoSocketStage(
      ConnectionOpener opener,
      AuthenticatedUser user,
      boolean envelope,
      SwitchboardSettings.Wss settings,
      IntConsumer closes,
      AtomicLong lastRead,
      AtomicInteger open) {
    this.opener = opener;
    this.user = user;
    this.envelope = envelope;
    this.settings = settings;
    this.closes = closes;
    this.lastRead = lastRead;
    this.open = open;
  }

  @Override
  public FlowShape<Object, Object> shape() {
    return shape;
  }

  /** RFC 6455's opcodes: 0x1 text, 0x2 binary, 0x9 ping. */
  private static Protocol.Opcode opcode(int code) {
    return Protocol.Opcode$.MODULE$.forCode((byte) code);
  }

  static long nowMillis() {
    return System.nanoTime() / 1_000_000;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new Logic();
  }

  private final class Logic extends TimerGraphStageLogic implements Socket {
    /** Frame-layer events waiting for demand: message frames, pings, close requests. */
    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AsyncCallback<Object> enqueue = createAsyncCallback(this::fromActor);
    private final AsyncCallback<Boolean> reading = createAsyncCallback(this::setReading);
    private ActorRef<ToConnection> actor;
    private boolean paused;
    /** Entries of {@code pending} that are not message frames. */
    private int pendingControl;
    /** The client message being collected: text or binary parts, and its size in bytes. */
    private StringBuilder text;
    private ByteString bytes;
    private long size;
    private boolean discarding;

    Logic() {
      super(shape);
      setHandler(in, new AbstractInHandler() {
        @Override
        public void onPush() {
          onClientEvent(grab(in));
        }

        @Override
        public void onUpstreamFailure(Throwable cause) {
          // A protocol error below: the frame layer answers it with a close frame of its own.
          failStage(cause);
        }
      });
      setHandler(out, new AbstractOutHandler() {
        @Override
        public void onPull() {
          flush();
        }
      });
    }

    @Override
    public void preStart() {
      open.incrementAndGet();
      actor = opener.open(RandomIds.next(), user, envelope ? new EnvelopeSocket(this) : this);
      scheduleWithFixedDelay("ping", settings.pingInterval(), settings.pingInterval());
      pullIfReading();
    }

    @Override
    public void postStop() {
      open.decrementAndGet();
      closed.set(true);
      if (actor != null) {
        actor.tell(ConnectionActor.SocketClosed.INSTANCE);
      }
    }

    @Override
    public void onTimer(Object key) {
      switch ((String) key) {
        case "ping" -> {
          if (nowMillis() - lastRead.get() >= settings.idleTimeout().toMillis()) {
            EdgeClose.IDLE.apply(this, closes);
          } else if (nowMillis() - lastRead.get() >= settings.pingInterval().toMillis()) {
            offer(new FrameHandler.DirectAnswer(PING));
          }
        }
        // "close-timeout": the client did not answer the close frame. (The frame layer has a close
        // deadline of its own, but it learns the time only from ticks, which this stage does not send.)
        default -> completeStage();
      }
    }

    private void onClientEvent(Object event) {
      if (event instanceof FrameHandler.TextMessagePart part) {
        collect(part.data(), null, part.last());
      } else if (event instanceof FrameHandler.BinaryMessagePart part) {
        collect(null, part.data(), part.last());
      } else if (event instanceof FrameHandler.PeerClosed peerClosed) {
        // The frame layer answers the client's close frame once this side says it is done.
        closed.set(true);
        offer(peerClosed);
        offer(FrameHandler.UserHandlerCompleted$.MODULE$);
      } else if (event instanceof FrameHandler.BypassEvent bypass) {
        if (bypass instanceof FrameHandler.ActivelyCloseWithCode && closed.compareAndSet(false, true)) {
          // The frame layer closes for a protocol error (e.g. 1007, bad UTF-8).
          scheduleOnce("close-timeout", CLOSE_HANDSHAKE_TIMEOUT);
        }
        offer(bypass); // or a pong to send
      }
      pullIfReading();
    }

    private void pullIfReading() {
      if (!paused && pendingControl < MAX_PENDING_CONTROL && !isClosed(in) && !hasBeenPulled(in)) {
        pull(in);
      }
    }

    private void collect(String textPart, ByteString binaryPart, boolean last) {
      if (!discarding) {
        size += textPart != null ? utf8Length(textPart) : binaryPart.size();
        if (size > settings.maxMessageSize()) {
          discarding = true;
          text = null;
          bytes = null;
          EdgeClose.TOO_BIG.apply(this, closes);
        } else if (textPart != null) {
          text = text == null ? new StringBuilder(textPart) : text.append(textPart);
        } else {
          bytes = bytes == null ? binaryPart : bytes.concat(binaryPart);
        }
      }
      if (last) {
        if (!discarding && !closed.get()) {
          actor.tell(new ConnectionActor.FromClient(text != null
              ? InboundFrame.text(text.toString())
              : InboundFrame.binary(bytes == null ? new byte[0] : bytes.toArray())));
        }
        text = null;
        bytes = null;
        size = 0;
      }
    }

    private static long utf8Length(String s) {
      long length = 0;
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        length += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
      }
      return length;
    }

    private void fromActor(Object event) {
      if (event instanceof CloseTimeout) {
        // From the close request, not from when the close frame goes out: it may be stuck behind a
        // full queue of a client that does not read.
        scheduleOnce("close-timeout", CLOSE_HANDSHAKE_TIMEOUT);
      } else {
        offer(event);
      }
    }

    private void offer(Object event) {
      if (!(event instanceof OutboundFrame)) {
        pendingControl++;
      }
      pending.add(event);
      flush();
    }

    private void flush() {
      while (isAvailable(out) && !pending.isEmpty()) {
        Object next = pending.poll();
        if (next instanceof OutboundFrame frame) {
          queued.decrementAndGet();
          queuedBytes.addAndGet(-frame.size());
          push(out, frame.start());
        } else {
          pendingControl--;
          push(out, next);
        }
      }
      pullIfReading();
    }

    private void setReading(boolean on) {
      paused = !on;
      pullIfReading();
    }

    // Socket: called from the actor's thread; everything reaches the stage through its callbacks.

    @Override
    public boolean send(OutboundMessage message) {
      if (closed.get() || queued.get() >= settings.outgoingQueueLimit()
          || queuedBytes.get() >= settings.outgoingBufferLimit()) {
        return false;
      }
      OutboundFrame frame = OutboundFrame.of(message);
      queued.incrementAndGet();
      queuedBytes.addAndGet(frame.size());
      enqueue.invoke(frame);
      return true;
    }

    @Override
    public void close(int code, String reason) {
      if (closed.compareAndSet(false, true)) {
        enqueue.invoke(new FrameHandler.ActivelyCloseWithCode(
            Option.apply((Object) code), CloseReasons.truncate(reason)));
        enqueue.invoke(new CloseTimeout());
      }
    }

    @Override
    public void pauseReading() {
      reading.invoke(false);
    }

    @Override
    public void resumeReading() {
      reading.invoke(true);
    }
  }

  /** Queued after a close frame: starts the wait for the client's answer when it is reached. */
  private static final class CloseTimeout {}

  /** A message frame ready for the frame layer, with its payload size for the outgoing limit. */
  private record OutboundFrame(FrameStart start, int size) {
    static OutboundFrame of(OutboundMessage message) {
      ByteString payload;
      Protocol.Opcode opcode;
      switch (message.kind()) {
        case BINARY -> {
          payload = ByteString.fromArrayUnsafe(message.bytes());
          opcode = opcode(0x2);
        }
        default -> {
          payload = ByteString.fromString(message.text(), StandardCharsets.UTF_8);
          opcode = opcode(0x1);
        }
      }
      return new OutboundFrame(
          FrameEvent$.MODULE$.fullFrame(opcode, Option.empty(), payload, true, false, false, false),
          payload.size());
    }
  }
}
