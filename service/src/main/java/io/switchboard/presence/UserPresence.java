package io.switchboard.presence;

import io.switchboard.cluster.CborSerializable;
import io.switchboard.cluster.DirectReceive;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.cluster.RandomIds;
import io.switchboard.cluster.SendPathSerializable;
import io.switchboard.metrics.SwitchboardMetrics;
import io.switchboard.presence.NodeFanout;
import io.switchboard.protocol.CloseCodes;
import io.switchboard.protocol.ConnectionInfo;
import io.switchboard.protocol.PresenceEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;

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
 *       dies takes its connections out of presence once it is downed; a remote connection reported
 *       stopped is first asked to register again, since Pekko reports one on a node restarted at the
 *       same host:port stopped while that node is not yet Up here);
 *   <li>events alternate online, offline, online, ...; each has a fresh id and a per-user sequence number
 *       that is strictly increasing, also across incarnations (it never falls below the wall clock in
 *       milliseconds, so a new incarnation continues above the old one);
 *   <li>a send is handed to every registered connection, and the answer is how many.
 * </ul>
 *
 * <p>Surviving its node: while the user is online, the entity keeps a record (the online event's id,
 * its own node, and the user's connections with their nodes, rewritten as they join and leave) in
 * the replicated {@link OnlineRecords}, written to a majority before the online event is emitted. A
 * new incarnation (rebalance, or its node died) reads the record with majority consistency before it
 * handles anything; finding one, it takes the user as online and waits {@code recoverySettle} for the
 * user's surviving connections to re-register (as <em>rejoins</em>): if any do, nothing is announced;
 * if none does, it emits the offline event. When a node is removed,
 * {@link PresenceRecovery} on the survivors wakes the entity of every user recorded there, so a user
 * whose entity died together with all of their connections still gets exactly one offline. The offline
 * event's id is derived from the online event's ({@code <online id>:offline}), so an offline repeated
 * after a crash between emitting it and removing the record has the same id and can be deduplicated.
 *
 * <p>What this adds up to, cluster-wide (the README's design section; {@code ChaosIT} checks all four
 * under random node kills and restarts):
 *
 * <ol>
 *   <li>per user, events alternate online, offline, ..., starting with online; {@code seq} never goes
 *       back or repeats; a repeated event keeps its id;
 *   <li>once membership has been stable for a bounded settle time, a user is online exactly when one of
 *       their connections is open on a live node, and every node's presence answer lists exactly those;
 *   <li>when a node dies holding this entity and all the user's connections, exactly one offline is
 *       emitted (failure detection + {@code DOWN_UNREACHABLE_AFTER} + {@code recoverySettle} + grace
 *       after the crash); a user with a connection on a surviving node gets no offline/online pair;
 *   <li>a send accepted while the user's connections are all on surviving nodes is handed once to each,
 *       also while shards move, and the answer counts exactly those.
 * </ol>
 *
 * <p>Offline grace ({@code offlineGrace} above zero): when the last connection goes, the user stays
 * online for the grace, and a connection that registers within it continues the same online period
 * (no offline/online pair at all); only when the grace passes with no connection is offline emitted.
 *
 * <p>With no connections (and past any grace) the entity stops itself after {@code passivateAfter}.
 */
public final class UserPresence extends AbstractBehavior<UserPresence.Command>
    implements DirectReceive.Handler<UserPresence.Command> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "UserPresence");

  public interface Command {}

  /**
   * A connection of this user is open ({@code rejoin}: it was registered with an earlier incarnation);
   * {@code fanout}: its node's {@link NodeFanout}, through which the entity reaches it from another
   * node (null: always directly).
   */
  public record Register(
      String connectionId,
      String node,
      long openedAt,
      ActorRef<ToConnection> connection,
      ActorRef<NodeFanout.Command> fanout,
      boolean rejoin)
      implements Command, CborSerializable {}

  /** A connection of this user closed. */
  public record Unregister(String connectionId) implements Command, CborSerializable {}

  /** Hand {@code message} to every connection of the user; answer how many. */
  public record SendToUser(OutboundMessage message, ActorRef<Delivered> replyTo)
      implements Command, SendPathSerializable {}

  public record Delivered(int connections) implements SendPathSerializable {}

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

  private record ConnectionStopped(String connectionId, ActorRef<ToConnection> connection)
      implements Command {}

  /** A connection reported stopped was asked whether it is still there, and did not answer in time. */
  private record CheckTimedOut(String connectionId, ActorRef<ToConnection> connection)
      implements Command {}

  /** Watch again a connection that answered the check (its node should be Up here by now). */
  private record Rewatch(String connectionId, ActorRef<ToConnection> connection)
      implements Command {}

  private enum Idle implements Command {
    INSTANCE
  }

  private enum GraceOver implements Command {
    INSTANCE
  }

  /** The connections that rejoin together after a move have had time to arrive: deliver held sends. */
  private enum FlushHeld implements Command {
    INSTANCE
  }

  /**
   * Least time given, after the first connection rejoined, to the others; they have until the recovery
   * settles. When the record names them (a hand-off) the wait ends as soon as all are back. After a
   * crash the names may be stale, so the whole wait is waited: the sends held then have waited for the
   * downing already.
   */
  private static final Duration REJOIN_WINDOW = Duration.ofSeconds(2);

  /**
   * How long a remote connection reported stopped has to answer the check before it leaves presence,
   * and how long after answering it is watched again.
   */
  private static final Duration STOPPED_CHECK = Duration.ofSeconds(1);

  /**
   * Longest time, from the incarnation's start, that held sends wait for connections the record names
   * on live nodes. Beyond the API's ask timeout, so a send is either handed to all of them or not
   * accepted (503) at all.
   */
  private static final Duration NAMED_REJOIN_LIMIT = Duration.ofSeconds(15);

  /** Most sends held while the user's connections rejoin; beyond it a send is answered at once. */
  private static final int MAX_HELD_SENDS = 1000;

  /** Starts the entity (when its node is gone, to recover the user recorded online there). */
  public record Wake() implements Command, CborSerializable {}

  /** Sharding hands this entity's shard to another node (rebalance, or this node is stopping). */
  private enum HandOff implements Command {
    INSTANCE
  }

  /** The record was written before a hand-off (to a majority, or the write timed out). */
  private enum HandOffRecorded implements Command {
    INSTANCE
  }

  /** The record as a majority of the replicas have it (null: none). */
  private record Loaded(OnlineRecords.Entry entry) implements Command {}

  /**
   * The records have not answered the read in twice their timeout (they answer at the timeout at
   * the latest, unless their replica restarted and lost the request): ask again.
   */
  private enum LoadAgain implements Command {
    INSTANCE
  }

  /** The online record was written: the online event, if any, may go out. */
  private enum OnlineRecorded implements Command {
    INSTANCE
  }

  /** A record write whose outcome needs no action (removal, grace start or end). */
  private enum RecordWritten implements Command {
    INSTANCE
  }

  /**
   * How the entity uses its {@link OnlineRecords}: how long a majority read or write may take, and how
   * long a recovered user's connections have to rejoin.
   */
  public record Records(Duration timeout, Duration recoverySettle) {}

  private static final int STASH_CAPACITY = 10_000;

  /** {@code fanout}: the fan-out of the connection's node when that is another node, else null. */
  private record Connection(
      String id,
      String node,
      long openedAt,
      ActorRef<ToConnection> ref,
      ActorRef<NodeFanout.Command> fanout) {}

  /** Starts sharding of user entities on this node; their events go to this node's {@code events}. */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter,
      int maxConnections,
      Records records) {
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
                            passivateAfter,
                            maxConnections,
                            records))
                .withStopMessage(HandOff.INSTANCE));
  }

  public static Behavior<Command> create(
      String userId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter,
      int maxConnections,
      Records records) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    Behaviors.<Command>withStash(
                        STASH_CAPACITY,
                        stash -> {
                          ActorRef<OnlineRecords.Command> store =
                              OnlineRecords.get(context.getSystem()).ref();
                          // Nothing is handled before the record is read: what an earlier
                          // incarnation announced decides what this one may announce. (A read that
                          // reaches no majority in time answers with this node's replica.)
                          Runnable load = () -> {
                            store.tell(new OnlineRecords.Get<Command>(
                                userId, true, records.timeout(), context.getSelf(), Loaded::new));
                            timers.startSingleTimer(
                                LoadAgain.INSTANCE, records.timeout().multipliedBy(2));
                          };
                          load.run();
                          return Behaviors.receive(Command.class)
                              .onMessage(
                                  Loaded.class,
                                  loaded -> {
                                    timers.cancel(LoadAgain.INSTANCE);
                                    return stash.unstashAll(
                                        new UserPresence(
                                            context, timers, store, userId, shard, events,
                                            offlineGrace, passivateAfter, maxConnections, records,
                                            loaded.entry()));
                                  })
                              .onMessage(
                                  LoadAgain.class,
                                  again -> {
                                    load.run();
                                    return Behaviors.same();
                                  })
                              .onAnyMessage(
                                  message -> {
                                    stash.stash(message);
                                    return Behaviors.same();
                                  })
                              .build();
                        })));
  }

  private final ActorContext<Command> context;
  private final String userId;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorRef<PresenceEvents.Command> events;
  private final TimerScheduler<Command> timers;
  private final Duration offlineGrace;
  private final Duration passivateAfter;
  /** This node's replica of the online records. */
  private final ActorRef<OnlineRecords.Command> store;
  private final String host;
  private final Records records;
  private final Map<String, Connection> connections = new LinkedHashMap<>();
  private boolean online;
  private boolean inGrace;
  /** Id of the online event of the current online period (the offline's id derives from it). */
  private String onlineEventId;
  /** The online record is being written; the online event goes out when it is. */
  private boolean recording;
  /** The online event to emit once the record is written, if any. */
  private String pendingAnnouncement;
  /** Started from a record of the user online: the user's connections are expected to rejoin. */
  private boolean recovering;
  /** When the offline grace started (epoch ms), 0 when not in grace; kept in the online record. */
  private long graceSince;
  /** This incarnation emitted offline last: the next connection, rejoin or not, is a new online. */
  private boolean offlineAnnounced;
  /** Sends that arrived while recovering with no connection yet, delivered once connections rejoin. */
  private final List<SendToUser> held = new ArrayList<>();
  /** Remote connections reported stopped and asked whether they are still there. */
  private final java.util.Set<String> checking = new java.util.HashSet<>();
  /** While recovering: when the recovery settles (epoch ms); held sends wait for rejoins until then. */
  private long recoveryDeadline;
  /** When this incarnation started (epoch ms). */
  private final long startedAt = System.currentTimeMillis();
  /** While recovering: the connections the record says will rejoin and that have not yet. */
  private final java.util.Set<String> expected = new java.util.HashSet<>();
  private long seq;
  /** Most connections of the user; a new one beyond it is closed with 4029 (rejoins are never refused). */
  private final int maxConnections;
  private final SwitchboardMetrics metrics;

  private UserPresence(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<OnlineRecords.Command> store,
      String userId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter,
      int maxConnections,
      Records records,
      OnlineRecords.Entry recorded) {
    super(context);
    this.maxConnections = maxConnections;
    this.context = context;
    this.timers = timers;
    this.store = store;
    this.records = records;
    this.host = Cluster.get(context.getSystem()).selfMember().address().toString();
    this.offlineGrace = offlineGrace;
    this.userId = userId;
    this.shard = shard;
    this.events = events;
    this.passivateAfter = passivateAfter;
    this.metrics = SwitchboardMetrics.get(context.getSystem());
    metrics.entities.incrementAndGet();
    if (recorded != null) {
      // An earlier incarnation announced the user online and never offline: carry on from there, and
      // give the user's surviving connections time to re-register before deciding they are gone.
      setOnline(true);
      onlineEventId = recorded.onlineEventId();
      inGrace = true;
      if (recorded.graceSince() > 0) {
        // Moved during the offline grace: the grace goes on from when it started.
        graceSince = recorded.graceSince();
        long left = graceSince + offlineGrace.toMillis() - System.currentTimeMillis();
        timers.startSingleTimer(GraceOver.INSTANCE, Duration.ofMillis(Math.max(0, left)));
      } else {
        recovering = true;
        recoveryDeadline = System.currentTimeMillis() + records.recoverySettle().toMillis();
        // Wait for the connections the record names on nodes that are still members; those on the
        // node that died (the usual reason for this recovery) will not come back.
        for (OnlineRecords.RecordedConnection connection : recorded.connections()) {
          if (connection.node() == null || liveMember(connection.node())) {
            expected.add(connection.id());
          }
        }
        timers.startSingleTimer(GraceOver.INSTANCE, max(offlineGrace, records.recoverySettle()));
      }
      if (!recorded.host().equals(host)) {
        record(null);
      }
    } else {
      context.setReceiveTimeout(passivateAfter, Idle.INSTANCE);
    }
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public Receive<Command> createReceive() {
    return new DirectReceive<>(this);
  }

  @Override
  public Behavior<Command> onMessage(Command command) {
    if (command instanceof SendToUser send) {
      return onSendToUser(send);
    } else if (command instanceof Register register) {
      return onRegister(register);
    } else if (command instanceof Unregister unregister) {
      return remove(unregister.connectionId(), null);
    } else if (command instanceof OnlineRecorded recorded) {
      return onOnlineRecorded(recorded);
    } else if (command instanceof RecordWritten) {
      return this;
    } else if (command instanceof GetPresence get) {
      return onGetPresence(get);
    } else if (command instanceof ConnectionStopped stopped) {
      return onConnectionStopped(stopped);
    } else if (command instanceof CheckTimedOut timedOut) {
      return remove(timedOut.connectionId(), timedOut.connection());
    } else if (command instanceof Rewatch rewatch) {
      return onRewatch(rewatch);
    } else if (command instanceof CloseConnections close) {
      return onCloseConnections(close);
    } else if (command instanceof Idle idle) {
      return onIdle(idle);
    } else if (command instanceof GraceOver over) {
      return onGraceOver(over);
    } else if (command instanceof Wake) {
      return this;
    } else if (command instanceof HandOff handOff) {
      return onHandOff(handOff);
    } else if (command instanceof HandOffRecorded recorded) {
      return onHandOffRecorded(recorded);
    } else if (command instanceof FlushHeld flush) {
      return onFlushHeld(flush);
    }
    return Behaviors.unhandled();
  }

  @Override
  public Behavior<Command> onSignal(Signal signal) {
    if (signal instanceof PostStop) {
      metrics.entities.decrementAndGet();
      setOnline(false);
      return this;
    }
    return Behaviors.unhandled();
  }

  /** The user's online state here, counted in this node's metrics. */
  private void setOnline(boolean now) {
    if (now != online) {
      metrics.onlineUsers.addAndGet(now ? 1 : -1);
    }
    online = now;
  }

  private Behavior<Command> onRegister(Register register) {
    Connection previous = connections.get(register.connectionId());
    if (previous == null && !register.rejoin() && connections.size() >= maxConnections) {
      // The newest is refused: the user's open devices keep working (as Centrifugo's per-user limit).
      register.connection().tell(new ToConnection.Close(
          CloseCodes.TOO_MANY_CONNECTIONS, "too many connections for this user (" + maxConnections + ")"));
      return this;
    }
    boolean checked = checking.remove(register.connectionId());
    if (checked) {
      timers.cancel(checkKey(register.connectionId()));
    }
    boolean added = false;
    if (checked && previous != null && previous.ref().equals(register.connection())) {
      // It is still there: the stop was not real. Watch it again a little later, not at once, or a
      // node that is still not Up here would report it stopped again right away.
      timers.startSingleTimer(
          rewatchKey(register.connectionId()),
          new Rewatch(register.connectionId(), register.connection()),
          STOPPED_CHECK);
    } else if (previous == null || !previous.ref().equals(register.connection())) {
      if (previous != null) {
        context.unwatch(previous.ref());
        timers.cancel(rewatchKey(register.connectionId()));
      }
      connections.put(
          register.connectionId(),
          new Connection(
              register.connectionId(),
              // One string per node, not one per connection that registered from another node.
              register.node().intern(),
              register.openedAt(),
              register.connection(),
              register.connection().path().address().hasLocalScope() ? null : register.fanout()));
      context.watchWith(
          register.connection(),
          new ConnectionStopped(register.connectionId(), register.connection()));
      added = previous == null;
    }
    context.cancelReceiveTimeout();
    if (inGrace) {
      // Back within the grace: the same online period goes on, nothing is announced.
      inGrace = false;
      timers.cancel(GraceOver.INSTANCE);
      if (graceSince > 0) {
        graceSince = 0;
        writeRecord(RecordWritten.INSTANCE);
        added = false; // that write names it
      }
    }
    if (added && online) {
      // Keep the record's list exact (rejoins after a move too), so that an incarnation after a crash
      // waits for this connection. The user's first connection is written by record() below.
      writeRecord(RecordWritten.INSTANCE);
    }
    boolean allBack = false;
    if (recovering) {
      boolean named = !expected.isEmpty();
      expected.remove(register.connectionId());
      allBack = named && expected.isEmpty(); // every connection the record named is back
      if (!allBack && !timers.isTimerActive(FlushHeld.INSTANCE)) {
        // Unless every named connection is back, held sends wait for the others until the recovery
        // settles (and at least REJOIN_WINDOW): after a crash the names can be stale, and connections
        // rejoin as their nodes learn of the removal and find the shard's new home, seconds apart.
        long untilSettled = recoveryDeadline - System.currentTimeMillis();
        timers.startSingleTimer(
            FlushHeld.INSTANCE, max(REJOIN_WINDOW, Duration.ofMillis(Math.max(0, untilSettled))));
      }
    }
    if (!online) {
      setOnline(true);
      onlineEventId = RandomIds.next();
      // A rejoin to an incarnation that found no record: the user was announced, only the record is
      // missing; write it, announce nothing. But a rejoin after this incarnation announced offline (it
      // came too late for the recovery) starts a new online period, announced like any other.
      boolean announce = !register.rejoin() || offlineAnnounced;
      offlineAnnounced = false;
      record(announce ? onlineEventId : null);
    }
    register.connection().tell(new ToConnection.Registered(context.getSelf()));
    return allBack ? flushHeld() : this;
  }

  /**
   * A watched connection stopped, says Pekko. For a connection on this node that is so. For one on
   * another node it may not be: a watch on an actor at the host:port of a member that was removed is
   * answered at once with "terminated" while the node there now (restarted, a new incarnation) is not
   * yet Up in this node's view, though the connection is open and registered. So the connection is
   * asked; it answers by registering again, and only one that does not answer leaves presence.
   */
  private Behavior<Command> onConnectionStopped(ConnectionStopped stopped) {
    String id = stopped.connectionId();
    Connection connection = connections.get(id);
    if (connection == null || !connection.ref().equals(stopped.connection())) {
      return this;
    }
    if (stopped.connection().path().address().hasLocalScope()) {
      return remove(id, stopped.connection());
    }
    checking.add(id);
    stopped.connection().tell(new ToConnection.ConfirmRegistration());
    timers.startSingleTimer(checkKey(id), new CheckTimedOut(id, stopped.connection()), STOPPED_CHECK);
    return this;
  }

  private Behavior<Command> onRewatch(Rewatch rewatch) {
    Connection connection = connections.get(rewatch.connectionId());
    if (connection != null
        && connection.ref().equals(rewatch.connection())
        && !checking.contains(rewatch.connectionId())) {
      context.watchWith(
          connection.ref(), new ConnectionStopped(rewatch.connectionId(), connection.ref()));
    }
    return this;
  }

  private static String checkKey(String connectionId) {
    return "check-" + connectionId;
  }

  private static String rewatchKey(String connectionId) {
    return "rewatch-" + connectionId;
  }

  /** Removes a connection; {@code ref} non-null means only if it is still that actor. */
  private Behavior<Command> remove(String connectionId, ActorRef<ToConnection> ref) {
    Connection connection = connections.get(connectionId);
    if (connection == null || (ref != null && !connection.ref().equals(ref))) {
      return this;
    }
    if (checking.remove(connectionId)) {
      timers.cancel(checkKey(connectionId));
    }
    timers.cancel(rewatchKey(connectionId));
    connections.remove(connectionId);
    context.unwatch(connection.ref());
    if (online && !connections.isEmpty()) {
      writeRecord(RecordWritten.INSTANCE);
    }
    whenNoConnections();
    return this;
  }

  /**
   * If the user has no connection left: start the grace, or go offline. Waits while the online record
   * is being written (then {@link #onOnlineRecorded} comes back here), so offline never overtakes online.
   */
  private void whenNoConnections() {
    if (!connections.isEmpty() || !online || inGrace || recording) {
      return;
    }
    if (offlineGrace.isZero()) {
      goOffline();
    } else {
      inGrace = true;
      graceSince = System.currentTimeMillis();
      timers.startSingleTimer(GraceOver.INSTANCE, offlineGrace);
      writeRecord(RecordWritten.INSTANCE);
    }
  }

  private Behavior<Command> onGraceOver(GraceOver over) {
    if (inGrace && connections.isEmpty()) {
      inGrace = false;
      flushHeld();
      goOffline();
    }
    return this;
  }

  /**
   * The shard moves. Connections re-register at the new home by themselves, but a user in the offline
   * grace (or still recovering) has none: wake the entity at its new home, through sharding (which holds
   * the message until the shard is there), so that the grace ends there and offline is not forgotten.
   */
  private Behavior<Command> onHandOff(HandOff handOff) {
    if (!online) {
      return Behaviors.stopped();
    }
    // Name the connections in the record first, so the new home knows whom to wait for.
    writeRecord(HandOffRecorded.INSTANCE);
    return this;
  }

  private Behavior<Command> onHandOffRecorded(HandOffRecorded recorded) {
    ClusterSharding.get(context.getSystem()).entityRefFor(TYPE_KEY, userId).tell(new Wake());
    return Behaviors.stopped();
  }

  /**
   * The rejoin window is over. Connections the record names on live nodes that are not back yet are
   * waited for a little longer (they rejoin as their node learns where the shard went, which takes
   * longer on a loaded node), up to {@link #NAMED_REJOIN_LIMIT} after this incarnation started.
   */
  private Behavior<Command> onFlushHeld(FlushHeld flush) {
    long left = startedAt + NAMED_REJOIN_LIMIT.toMillis() - System.currentTimeMillis();
    if (!expected.isEmpty() && left > 0) {
      timers.startSingleTimer(FlushHeld.INSTANCE, Duration.ofMillis(Math.min(left, 500)));
      return this;
    }
    return flushHeld();
  }

  /** Whether {@code node} ({@code host:port}) is a member that is up. */
  private boolean liveMember(String node) {
    for (Member member : Cluster.get(context.getSystem()).state().getMembers()) {
      Address address = member.address();
      String hostPort = address.host().getOrElse(() -> "") + ":" + address.port().getOrElse(() -> 0);
      boolean up =
          member.status().equals(MemberStatus.up()) || member.status().equals(MemberStatus.weaklyUp());
      if (up && node.equals(hostPort)) {
        return true;
      }
    }
    return false;
  }

  /** Ends the wait for rejoining connections: held sends go to the connections there are now. */
  private Behavior<Command> flushHeld() {
    recovering = false;
    expected.clear();
    timers.cancel(FlushHeld.INSTANCE);
    List<SendToUser> sends = List.copyOf(held);
    held.clear();
    sends.forEach(this::deliver);
    return this;
  }

  private void goOffline() {
    setOnline(false);
    offlineAnnounced = true;
    graceSince = 0;
    emit(PresenceEvent.Kind.offline, onlineEventId + ":offline");
    store.tell(new OnlineRecords.Put<Command>(
        userId, null, records.timeout(), context.getSelf(), RecordWritten.INSTANCE));
    context.setReceiveTimeout(passivateAfter, Idle.INSTANCE);
  }

  /**
   * Writes the online record (to a majority); {@code announce}: the id of the online event to emit
   * once it is written, or null to emit nothing.
   */
  private void record(String announce) {
    recording = true;
    writeRecord(OnlineRecorded.INSTANCE);
    pendingAnnouncement = announce;
    // The records answer at their timeout at the latest; should that answer be lost (their replica
    // restarted), the entity goes on as after a timeout instead of waiting for ever.
    timers.startSingleTimer(OnlineRecorded.INSTANCE, records.timeout().multipliedBy(2));
  }

  /** Writes this user's record as it is now (to a majority); {@code answer} comes back when it is. */
  private void writeRecord(Command answer) {
    OnlineRecords.Entry entry = new OnlineRecords.Entry(
        onlineEventId,
        host,
        graceSince,
        connections.values().stream()
            .map(c -> new OnlineRecords.RecordedConnection(c.id(), c.node()))
            .toList());
    store.tell(new OnlineRecords.Put<>(userId, entry, records.timeout(), context.getSelf(), answer));
  }

  private Behavior<Command> onOnlineRecorded(OnlineRecorded recorded) {
    // On a timeout the write still reaches the replicas it could: announce anyway, the user is online.
    timers.cancel(OnlineRecorded.INSTANCE);
    recording = false;
    if (pendingAnnouncement != null) {
      emit(PresenceEvent.Kind.online, pendingAnnouncement);
      pendingAnnouncement = null;
    }
    whenNoConnections();
    return this;
  }

  private void emit(PresenceEvent.Kind kind, String eventId) {
    long now = System.currentTimeMillis();
    seq = Math.max(seq + 1, now);
    PresenceEvent event = new PresenceEvent(eventId, userId, kind, seq, now);
    events.tell(new PresenceEvents.Publish(event));
  }

  private Behavior<Command> onSendToUser(SendToUser send) {
    boolean waitingForRejoins = recovering && (connections.isEmpty() || !expected.isEmpty());
    if ((waitingForRejoins || !held.isEmpty()) && held.size() < MAX_HELD_SENDS) {
      // The shard just moved and the user's connections are on their way back: a send now would
      // reach none of them. Hold it (and, to keep order, any send after it) until they rejoin, or
      // until the recovery settles with none.
      held.add(send);
      return this;
    }
    deliver(send);
    return this;
  }

  private void deliver(SendToUser send) {
    tellConnections(
        new ToConnection.Deliver(send.message()),
        refs -> new NodeFanout.Deliver(send.message(), refs));
    send.replyTo().tell(new Delivered(connections.size()));
    metrics.sends.increment();
    metrics.deliveries.increment(connections.size());
  }

  /**
   * Tells every connection {@code command}: those on this node directly, those on another node with one
   * {@code batch} to that node's {@link NodeFanout}. A connection is always reached the same way, so
   * what the entity tells it arrives in order.
   */
  private void tellConnections(
      ToConnection command,
      Function<List<ActorRef<ToConnection>>, NodeFanout.Command> batch) {
    Map<ActorRef<NodeFanout.Command>, List<ActorRef<ToConnection>>> byNode = null;
    for (Connection connection : connections.values()) {
      if (connection.fanout() == null) {
        connection.ref().tell(command);
      } else {
        if (byNode == null) {
          byNode = new LinkedHashMap<>();
        }
        byNode.computeIfAbsent(connection.fanout(), node -> new ArrayList<>(2)).add(connection.ref());
      }
    }
    if (byNode != null) {
      byNode.forEach((fanout, refs) -> fanout.tell(batch.apply(refs)));
    }
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
    tellConnections(
        new ToConnection.Close(close.code(), close.reason()),
        refs -> new NodeFanout.Close(close.code(), close.reason(), refs));
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
