package io.switchboard.presence;

import io.switchboard.CborSerializable;
import io.switchboard.connection.ConnectionActor;
import io.switchboard.connection.OutboundMessage;
import io.switchboard.protocol.ConnectionInfo;
import io.switchboard.protocol.PresenceEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The presence of one user: a sharded entity, one per user id, holding the user's open connections
 * (id, node, actor, opened-at). It is the only place that decides online and offline, and the place a
 * send to the user fans out from.
 *
 * <p>Invariants, within one incarnation of the entity:
 *
 * <ul>
 *   <li>online is emitted when the first connection registers, offline when the last one is gone
 *       (unregistered, or its actor stopped: the entity watches every connection actor, so a node that
 *       dies takes its connections out of presence once it is downed);
 *   <li>events alternate online, offline, online, ...; each has a fresh id and a per-user sequence number
 *       that is strictly increasing, also across incarnations (it never falls below the wall clock in
 *       milliseconds, so a new incarnation continues above the old one);
 *   <li>a send is handed to every registered connection, and the answer is how many.
 * </ul>
 *
 * <p>When the entity moves (rebalance) or its node dies, its memory is gone; the connections still open
 * re-register as <em>rejoins</em>, and a fresh incarnation whose first registration is a rejoin takes
 * the user as already online and announces nothing. Known gap, for the fault-tolerance issue: when the
 * entity's node dies together with all of the user's connections, no incarnation is left to emit the
 * offline event.
 *
 * <p>Offline grace ({@code offlineGrace} above zero): when the last connection goes, the user stays
 * online for the grace, and a connection that registers within it continues the same online period
 * (no offline/online pair at all); only when the grace passes with no connection is offline emitted.
 *
 * <p>With no connections (and past any grace) the entity stops itself after {@code passivateAfter}.
 */
public final class UserPresence extends AbstractBehavior<UserPresence.Command> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "UserPresence");

  public interface Command {}

  /** A connection of this user is open ({@code rejoin}: it was registered with an earlier incarnation). */
  public record Register(
      String connectionId,
      String node,
      long openedAt,
      ActorRef<ConnectionActor.Command> connection,
      boolean rejoin)
      implements Command, CborSerializable {}

  /** A connection of this user closed. */
  public record Unregister(String connectionId) implements Command, CborSerializable {}

  /** Hand {@code message} to every connection of the user; answer how many. */
  public record SendToUser(OutboundMessage message, ActorRef<Delivered> replyTo)
      implements Command, CborSerializable {}

  public record Delivered(int connections) implements CborSerializable {}

  public record GetPresence(ActorRef<Snapshot> replyTo) implements Command, CborSerializable {}

  /**
   * The user's open connections, oldest first; {@code online} also during the offline grace, when
   * {@code inGrace} is true and there are no connections.
   */
  public record Snapshot(boolean online, boolean inGrace, List<ConnectionInfo> connections)
      implements CborSerializable {}

  /** Close every connection of the user with {@code code}; answer how many were told to. */
  public record CloseConnections(int code, String reason, ActorRef<Closed> replyTo)
      implements Command, CborSerializable {}

  public record Closed(int connections) implements CborSerializable {}

  private record ConnectionStopped(String connectionId, ActorRef<ConnectionActor.Command> connection)
      implements Command {}

  private enum Idle implements Command {
    INSTANCE
  }

  private enum GraceOver implements Command {
    INSTANCE
  }

  private record Connection(
      String id, String node, long openedAt, ActorRef<ConnectionActor.Command> ref) {}

  /** Starts sharding of user entities on this node; their events go to this node's {@code events}. */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter) {
    return ClusterSharding.get(system)
        .init(
            Entity.of(
                TYPE_KEY,
                entity ->
                    create(
                        entity.getEntityId(),
                        entity.getShard(),
                        events,
                        offlineGrace,
                        passivateAfter)));
  }

  public static Behavior<Command> create(
      String userId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new UserPresence(
                        context, timers, userId, shard, events, offlineGrace, passivateAfter)));
  }

  private final ActorContext<Command> context;
  private final String userId;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorRef<PresenceEvents.Command> events;
  private final TimerScheduler<Command> timers;
  private final Duration offlineGrace;
  private final Duration passivateAfter;
  private final Map<String, Connection> connections = new LinkedHashMap<>();
  private boolean online;
  private boolean inGrace;
  private long seq;

  private UserPresence(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String userId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter) {
    super(context);
    this.context = context;
    this.timers = timers;
    this.offlineGrace = offlineGrace;
    this.userId = userId;
    this.shard = shard;
    this.events = events;
    this.passivateAfter = passivateAfter;
    context.setReceiveTimeout(passivateAfter, Idle.INSTANCE);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Unregister.class, u -> remove(u.connectionId(), null))
        .onMessage(ConnectionStopped.class, s -> remove(s.connectionId(), s.connection()))
        .onMessage(SendToUser.class, this::onSendToUser)
        .onMessage(GetPresence.class, this::onGetPresence)
        .onMessage(CloseConnections.class, this::onCloseConnections)
        .onMessage(Idle.class, this::onIdle)
        .onMessage(GraceOver.class, this::onGraceOver)
        .build();
  }

  private Behavior<Command> onRegister(Register register) {
    Connection previous = connections.get(register.connectionId());
    if (previous == null || !previous.ref().equals(register.connection())) {
      if (previous != null) {
        context.unwatch(previous.ref());
      }
      connections.put(
          register.connectionId(),
          new Connection(
              register.connectionId(), register.node(), register.openedAt(), register.connection()));
      context.watchWith(
          register.connection(),
          new ConnectionStopped(register.connectionId(), register.connection()));
    }
    context.cancelReceiveTimeout();
    if (inGrace) {
      // Back within the grace: the same online period goes on, nothing is announced.
      inGrace = false;
      timers.cancel(GraceOver.INSTANCE);
    }
    if (!online) {
      online = true;
      if (!register.rejoin()) {
        emit(PresenceEvent.Kind.online);
      }
    }
    register.connection().tell(new ConnectionActor.Registered(context.getSelf()));
    return this;
  }

  /** Removes a connection; {@code ref} non-null means only if it is still that actor. */
  private Behavior<Command> remove(String connectionId, ActorRef<ConnectionActor.Command> ref) {
    Connection connection = connections.get(connectionId);
    if (connection == null || (ref != null && !connection.ref().equals(ref))) {
      return this;
    }
    connections.remove(connectionId);
    context.unwatch(connection.ref());
    if (connections.isEmpty() && online && !inGrace) {
      if (offlineGrace.isZero()) {
        goOffline();
      } else {
        inGrace = true;
        timers.startSingleTimer(GraceOver.INSTANCE, offlineGrace);
      }
    }
    return this;
  }

  private Behavior<Command> onGraceOver(GraceOver over) {
    if (inGrace && connections.isEmpty()) {
      inGrace = false;
      goOffline();
    }
    return this;
  }

  private void goOffline() {
    online = false;
    emit(PresenceEvent.Kind.offline);
    context.setReceiveTimeout(passivateAfter, Idle.INSTANCE);
  }

  private void emit(PresenceEvent.Kind kind) {
    long now = System.currentTimeMillis();
    seq = Math.max(seq + 1, now);
    PresenceEvent event = new PresenceEvent(UUID.randomUUID().toString(), userId, kind, seq, now);
    events.tell(new PresenceEvents.Publish(event));
  }

  private Behavior<Command> onSendToUser(SendToUser send) {
    ConnectionActor.Deliver deliver = new ConnectionActor.Deliver(send.message());
    for (Connection connection : connections.values()) {
      connection.ref().tell(deliver);
    }
    send.replyTo().tell(new Delivered(connections.size()));
    return this;
  }

  private Behavior<Command> onGetPresence(GetPresence get) {
    List<ConnectionInfo> infos = new ArrayList<>(connections.size());
    for (Connection c : connections.values()) {
      infos.add(new ConnectionInfo(c.id(), c.node(), Instant.ofEpochMilli(c.openedAt()).toString()));
    }
    get.replyTo().tell(new Snapshot(online, inGrace, infos));
    return this;
  }

  private Behavior<Command> onCloseConnections(CloseConnections close) {
    ConnectionActor.Close command = new ConnectionActor.Close(close.code(), close.reason());
    for (Connection connection : connections.values()) {
      connection.ref().tell(command);
    }
    close.replyTo().tell(new Closed(connections.size()));
    return this;
  }

  private Behavior<Command> onIdle(Idle idle) {
    if (connections.isEmpty()) {
      shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
    }
    return this;
  }
}
