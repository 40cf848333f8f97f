package io.switchboard.connection;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.CborSerializable;
import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.ClientError;
import io.switchboard.protocol.CloseCodes;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One client connection. It owns the socket's outgoing side: every message for this client passes
 * through it, in order, and a client that stops reading is closed with 1013 instead of growing a queue.
 *
 * <p>For an authenticated user it registers with the user's {@link UserPresence} entity when it starts,
 * re-sending the registration until the entity acknowledges it, and unregisters when it stops. It
 * watches the entity: when the entity stops (its shard moved, or its node died) the connection registers
 * again as a <em>rejoin</em>, so the new incarnation adopts it without announcing the user again.
 * Anonymous connections have no presence at all.
 *
 * <p>The socket closing stops the actor; the actor stopping closes the socket. State is this node's
 * only: when the node dies, the connection is gone with it and the entity's watch removes it.
 */
public final class ConnectionActor extends AbstractBehavior<ConnectionActor.Command> {

  public interface Command {}

  /** A message for this client, from the user's entity or from this node. */
  public record Deliver(OutboundMessage message) implements Command, CborSerializable {}

  /** Close the socket with this code and reason (e.g. 4000 when the app closes the user's sessions). */
  public record Close(int code, String reason) implements Command, CborSerializable {}

  /** The user's entity holds this connection; the connection watches {@code presence}. */
  public record Registered(ActorRef<UserPresence.Command> presence)
      implements Command, CborSerializable {}

  /** A complete message the client sent. */
  public record FromClient(InboundFrame frame) implements Command {}

  /** The transport saw the socket close. */
  public enum SocketClosed implements Command {
    INSTANCE
  }

  private record PresenceStopped(ActorRef<UserPresence.Command> presence) implements Command {}

  private enum RetryRegister implements Command {
    INSTANCE
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final String connectionId;
  private final String node;
  private final AuthenticatedUser user;
  private final Socket socket;
  private final RecipientRef<UserPresence.Command> presence;
  private final Duration registerRetry;
  private final ConnectionRegistry registry;
  private final long openedAt = System.currentTimeMillis();
  private ActorRef<UserPresence.Command> watchedEntity;
  private boolean rejoin;

  /**
   * @param user the authenticated user, or null for an anonymous connection
   * @param presence the user's entity (through sharding), or null for an anonymous connection
   */
  public static Behavior<Command> create(
      String connectionId,
      String node,
      AuthenticatedUser user,
      Socket socket,
      RecipientRef<UserPresence.Command> presence,
      Duration registerRetry,
      ConnectionRegistry registry) {
    return Behaviors.setup(
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
                        registry)));
  }

  private ConnectionActor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String connectionId,
      String node,
      AuthenticatedUser user,
      Socket socket,
      RecipientRef<UserPresence.Command> presence,
      Duration registerRetry,
      ConnectionRegistry registry) {
    super(context);
    this.context = context;
    this.timers = timers;
    this.connectionId = connectionId;
    this.node = node;
    this.user = user;
    this.socket = socket;
    this.presence = presence;
    this.registerRetry = registerRetry;
    this.registry = registry;
    registry.add(connectionId, context.getSelf());
    if (presence != null) {
      register();
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(Close.class, this::onClose)
        .onMessage(Registered.class, this::onRegistered)
        .onMessage(FromClient.class, this::onFromClient)
        .onMessage(SocketClosed.class, closed -> Behaviors.stopped())
        .onMessage(PresenceStopped.class, this::onPresenceStopped)
        .onMessage(RetryRegister.class, retry -> register())
        .onSignal(PostStop.class, this::onPostStop)
        .build();
  }

  private Behavior<Command> register() {
    presence.tell(
        new UserPresence.Register(connectionId, node, openedAt, context.getSelf(), rejoin));
    timers.startSingleTimer(RetryRegister.INSTANCE, registerRetry);
    return this;
  }

  private Behavior<Command> onDeliver(Deliver deliver) {
    if (socket.send(deliver.message())) {
      return this;
    }
    socket.close(CloseCodes.TRY_AGAIN_LATER, "outgoing buffer full");
    return Behaviors.stopped();
  }

  private Behavior<Command> onClose(Close close) {
    socket.close(close.code(), close.reason());
    return Behaviors.stopped();
  }

  private Behavior<Command> onRegistered(Registered registered) {
    timers.cancel(RetryRegister.INSTANCE);
    if (!registered.presence().equals(watchedEntity)) {
      if (watchedEntity != null) {
        context.unwatch(watchedEntity);
      }
      watchedEntity = registered.presence();
      context.watchWith(watchedEntity, new PresenceStopped(watchedEntity));
    }
    // From now on the user is known to be online with this connection: any later registration
    // (the entity moved) must not announce the user again.
    rejoin = true;
    return this;
  }

  private Behavior<Command> onPresenceStopped(PresenceStopped stopped) {
    if (!stopped.presence().equals(watchedEntity)) {
      return this;
    }
    watchedEntity = null;
    return register();
  }

  private Behavior<Command> onFromClient(FromClient message) {
    // Request handlers arrive with the "client messages" issue; until then every message is answered.
    reply(new ClientError("no request handler is configured on this node", null));
    return this;
  }

  private void reply(Object value) {
    try {
      socket.send(OutboundMessage.text(JSON.writeValueAsString(value)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private Behavior<Command> onPostStop(PostStop signal) {
    if (presence != null) {
      presence.tell(new UserPresence.Unregister(connectionId));
    }
    registry.remove(connectionId, context.getSelf());
    socket.close(1000, "");
    return this;
  }
}
