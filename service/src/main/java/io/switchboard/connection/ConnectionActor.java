package io.switchboard.connection;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.cluster.DirectReceive;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.cluster.RandomIds;
import io.switchboard.handler.DataType;
import io.switchboard.handler.InboundFrame;
import io.switchboard.metrics.SwitchboardMetrics;
import io.switchboard.presence.ToConnection;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.CloseCodes;
import io.switchboard.protocol.control.ClientControl;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;

/**
 * One client connection: the socket's life. Every message for this client passes through it, in order,
 * and a client that stops reading is closed with 1013 instead of growing a queue. The socket closing
 * stops the actor; the actor stopping closes the socket. State is this node's only: when the node dies,
 * the connection is gone with it and the entity's watch removes it.
 *
 * <p>Its other jobs are units it owns, plain objects that run on its messages:
 *
 * <ul>
 *   <li>{@link PresenceRegistration}: an authenticated connection's registration with the user's
 *       {@link UserPresence} entity (re-sent with backoff, rejoining when the entity moves, unregistered
 *       when the actor stops). Anonymous connections have no presence at all.
 *   <li>{@link TokenLifetime}: the token's expiry (4001) and refresh (4003 for another user's token).
 *   <li>{@link HandlerRequests}: client messages as requests to the app's handler, one at a time and in
 *       order, with the socket's read pause and the 1013 close when a client floods. Made with the
 *       connection's first request.
 *   <li>{@link ControlFrames}: which frames are control frames and how they are answered.
 * </ul>
 *
 * <p>Per-connection memory is what a node's connection count is bounded by: an idle connection holds
 * this actor and its rate bucket, and when authenticated its registration and token lifetime; the
 * request unit comes with the first request, its queue only once a request has to wait.
 *
 * <p>Every client frame counts against the connection's rate limit, control frames too (a refresh
 * costs a signature check); beyond it the frame is answered with an error and goes nowhere.
 */
public final class ConnectionActor extends AbstractBehavior<ToConnection>
    implements DirectReceive.Handler<ToConnection>, ClientSocket {

  /** This actor's own messages; what presence tells it are the {@link ToConnection} records. */
  public interface Command extends ToConnection {}

  /** A complete message the client sent. */
  public record FromClient(InboundFrame frame) implements Command {}

  /** The transport saw the socket close. */
  public enum SocketClosed implements Command {
    INSTANCE
  }

  static final String RATE_LIMITED = "rate limit exceeded";

  private final ActorContext<ToConnection> context;
  private final TimerScheduler<ToConnection> timers;
  private final String connectionId;
  private final Socket socket;
  private final ConnectionRegistry registry;
  private final Handling handling;
  /** Client messages per second this connection may send (beyond: an error reply, not the handler). */
  private final TokenBucket rate;
  private final SwitchboardMetrics metrics;
  /** Null for an anonymous connection. */
  private final PresenceRegistration registration;
  /** The connection's user and its token's expiry; null for an anonymous connection. */
  private final TokenLifetime tokens;
  /** Null until the client's first request to the handler. */
  private HandlerRequests requests;

  /**
   * @param user the authenticated user, or null for an anonymous connection
   * @param presence the user's entity (through sharding), or null for an anonymous connection
   */
  public static Behavior<ToConnection> create(
      String connectionId,
      String node,
      AuthenticatedUser user,
      Socket socket,
      RecipientRef<UserPresence.Command> presence,
      Duration registerRetry,
      ConnectionRegistry registry,
      Handling handling) {
    // Every log line of this connection carries its id and user (never its token or messages).
    Map<String, String> mdc =
        Map.of("connectionId", connectionId, "userId", user == null ? "-" : user.id());
    return Behaviors.withMdc(ToConnection.class, mdc, Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new ConnectionActor(
                        context,
                        timers,
                        connectionId,
                        node,
                        user,
                        socket,
                        presence,
                        registerRetry,
                        registry,
                        handling))));
  }

  private ConnectionActor(
      ActorContext<ToConnection> context,
      TimerScheduler<ToConnection> timers,
      String connectionId,
      String node,
      AuthenticatedUser user,
      Socket socket,
      RecipientRef<UserPresence.Command> presence,
      Duration registerRetry,
      ConnectionRegistry registry,
      Handling handling) {
    super(context);
    this.context = context;
    this.timers = timers;
    this.connectionId = connectionId;
    this.socket = socket;
    this.registry = registry;
    this.handling = handling;
    this.rate = new TokenBucket(handling.ratePerSecond(), handling.rateBurst(), System.nanoTime());
    this.metrics = SwitchboardMetrics.get(context.getSystem());
    this.tokens = user == null ? null : new TokenLifetime(user, timers);
    registry.add(connectionId, context.getSelf(), user == null ? null : user.id());
    this.registration =
        presence == null
            ? null
            : new PresenceRegistration(
                context, presence, connectionId, node, System.currentTimeMillis(), registerRetry);
  }

  @Override
  public Receive<ToConnection> createReceive() {
    return new DirectReceive<>(this);
  }

  @Override
  public Behavior<ToConnection> onMessage(ToConnection command) {
    if (command instanceof ToConnection.Deliver deliver) {
      return onDeliver(deliver);
    } else if (command instanceof FromClient fromClient) {
      return onFromClient(fromClient);
    } else if (command instanceof HandlerRequests.Message message) {
      requests.onMessage(message);
      return this;
    } else if (command instanceof ToConnection.Close close) {
      return closed(close.code(), close.reason());
    } else if (command instanceof ToConnection.Registered registered) {
      if (registration != null) {
        registration.onRegistered(registered);
      }
      return this;
    } else if (command == SocketClosed.INSTANCE) {
      return Behaviors.stopped();
    } else if (command instanceof PresenceRegistration.Message message) {
      registration.onMessage(message);
      return this;
    } else if (command == TokenLifetime.Expired.INSTANCE) {
      return closed(CloseCodes.TOKEN_EXPIRED, "token expired");
    } else if (command instanceof ToConnection.ConfirmRegistration) {
      if (registration != null) {
        registration.register();
      }
      return this;
    }
    return Behaviors.unhandled();
  }

  @Override
  public Behavior<ToConnection> onSignal(Signal signal) {
    return signal instanceof PostStop ? onPostStop() : Behaviors.unhandled();
  }

  private Behavior<ToConnection> onDeliver(ToConnection.Deliver deliver) {
    return send(deliver.message()) ? this : closed(CloseCodes.TRY_AGAIN_LATER, "outgoing buffer full");
  }

  private Behavior<ToConnection> onFromClient(FromClient message) {
    metrics.messagesIn.increment();
    InboundFrame frame = message.frame();
    ClientControl control = ControlFrames.parse(frame);
    String requestId = RandomIds.next();
    if (!rate.tryTake(System.nanoTime())) {
      metrics.rateLimited.increment();
      sendError(RATE_LIMITED, requestId, control == null ? null : control.id());
      return this;
    }
    JsonNode clientId = null;
    if (control instanceof ClientControl.Refresh refresh) {
      boolean open =
          tokens == null
              ? TokenLifetime.refused(this, "an anonymous connection has no token to refresh")
              : tokens.refresh(refresh.token(), handling.tokens(), this);
      return open ? this : Behaviors.stopped();
    } else if (control instanceof ClientControl.Unknown unknown) {
      sendControl(ControlFrames.commandError(
          unknown.command(), "unknown command; the commands are request and refresh"));
      return this;
    } else if (control instanceof ClientControl.Request request) {
      // The reply comes back with the client's id.
      clientId = request.id();
      if (clientId == null) {
        sendControl(ControlFrames.commandError("request", "a request needs an id (a string or a number)"));
        return this;
      }
      try {
        frame = ControlFrames.requestData(request.data(), handling.dataType());
      } catch (IllegalArgumentException e) {
        sendError(e.getMessage(), requestId, clientId);
        return this;
      }
    }
    if (handling.handler() == null) {
      sendError("no request handler is configured on this node", requestId, clientId);
      return this;
    }
    Object data;
    try {
      data = handling.dataType().decode(frame);
    } catch (DataType.InvalidMessageException e) {
      sendError(e.getMessage(), requestId, clientId);
      return this;
    }
    if (requests == null) {
      requests =
          new HandlerRequests(context, timers, connectionId, handling, metrics, this, socket, tokens);
    }
    return requests.add(requestId, data, clientId) ? this : Behaviors.stopped();
  }

  /** Sends a frame to the client, counted; false when its outgoing buffer is full. */
  @Override
  public boolean send(OutboundMessage message) {
    boolean sent = socket.send(message);
    if (sent) {
      metrics.messagesOut.increment();
    }
    return sent;
  }

  @Override
  public boolean sendControl(OutboundMessage message) {
    boolean sent = socket.sendControl(message);
    if (sent) {
      metrics.messagesOut.increment();
    }
    return sent;
  }

  @Override
  public void close(int code, String reason) {
    metrics.closed(code);
    context.getLog().debug("closing with {} ({})", code, reason);
    socket.close(code, reason);
  }

  @Override
  public Logger log() {
    return context.getLog();
  }

  private Behavior<ToConnection> closed(int code, String reason) {
    close(code, reason);
    return Behaviors.stopped();
  }

  private Behavior<ToConnection> onPostStop() {
    if (registration != null) {
      registration.unregister();
    }
    registry.remove(connectionId, context.getSelf());
    socket.close(1000, "");
    return this;
  }
}
