package io.switchboard.presence;

import io.switchboard.cluster.CborSerializable;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.cluster.RandomIds;
import io.switchboard.cluster.SendPathSerializable;
import io.switchboard.metrics.SwitchboardMetrics;
import io.switchboard.protocol.ConnectionInfo;
import io.switchboard.protocol.PresenceEvent;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
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
 * <p>A state machine, one behavior per state, each handling the messages of that state (transitions:
 * loading to offline, inGrace or recovering; offline to online; online to inGrace or offline; inGrace
 * and recovering to online or offline; online, inGrace and recovering to handingOff, then stopped):
 *
 * <ul>
 *   <li><b>loading</b>: reads the user's online record (majority) and stashes everything else: what an
 *       earlier incarnation announced decides what this one may announce.
 *   <li><b>offline</b>: no connection. A registration makes the user online; it is announced unless it
 *       is a rejoin to an incarnation that found no record (the user was announced, only the record is
 *       missing), but a rejoin after this incarnation announced offline starts a new online period like
 *       any other. Passivates after {@code passivateAfter}.
 *   <li><b>online</b>: at least one connection, or none while the record that opens the online period
 *       is still being written (offline never overtakes online).
 *   <li><b>inGrace</b>: online with no connection for the offline grace; a connection that registers
 *       within it continues the same online period (no events); else offline when it passes.
 *   <li><b>recovering</b>: started from a record of the user online (no grace): waits
 *       {@code recoverySettle} (or the grace, if longer) for the user's surviving connections to rejoin;
 *       the first one makes it online, announcing nothing; if none does, offline is emitted.
 *   <li><b>handingOff</b>: the shard moves; the record is written with the connections it names, then
 *       the entity is woken at its new home and stops. Meanwhile it goes on as the state it came from.
 * </ul>
 *
 * <p>Invariants, within one incarnation of the entity:
 *
 * <ul>
 *   <li>online is emitted when the first connection registers, offline when the last one is gone
 *       (unregistered, or its actor stopped: the entity watches every connection actor, so a node that
 *       dies takes its connections out of presence once it is downed; a remote connection reported
 *       stopped is first asked to register again, by the {@link StoppedConnectionCheck});
 *   <li>one online per offline: events alternate online, offline, online, ...; each has a fresh id and a
 *       per-user sequence number that is strictly increasing, also across incarnations (it never falls
 *       below the wall clock in milliseconds, so a new incarnation continues above the old one);
 *   <li>a send is handed to every registered connection, and the answer is how many; while the user's
 *       connections rejoin after a move, sends are held in order ({@link RejoinWait}).
 * </ul>
 *
 * <p>Surviving its node: while the user is online, the entity keeps a record (the online event's id,
 * its own node, the grace start and the user's connections with their nodes, rewritten as they join and
 * leave) in the replicated {@link OnlineRecords}, written by the {@link OnlineRecordWriter} to a majority
 * before the online event is emitted. A new incarnation (rebalance, or its node died) reads the record
 * before it handles anything; finding one, it takes the user as online (recovering, or inGrace from the
 * record's grace start when the entity moved during the grace). When a node is removed,
 * {@link PresenceRecovery} on the survivors wakes the entity of every user recorded there, so a user
 * whose entity died together with all of their connections still gets exactly one offline. The offline
 * event's id is derived from the online event's ({@code <online id>:offline}), so an offline repeated
 * after a crash between emitting it and removing the record has the same id and can be deduplicated. On
 * a rebalance the old home writes the record (naming the connections) before it stops, so the new home
 * knows whom to wait for, and wakes the new home so that a grace or recovery in progress ends there.
 *
 * <p>What this adds up to, cluster-wide (docs/design.md, "Invariants"; {@code ChaosIT} checks all four
 * under random node kills and restarts):
 *
 * <ol>
 *   <li>per user, events alternate online, offline, ..., starting with online; {@code seq} never goes
 *       back or repeats; a repeated event keeps its id;
 *   <li>once membership has been stable for a bounded settle time, a user is online exactly when one of
 *       their connections is open on a live node, and every node's presence answer lists exactly those;
 *   <li>when a node dies holding this entity and all the user's connections, exactly one offline is
 *       emitted (failure detection + {@code DOWN_UNREACHABLE_AFTER} + removal + Pekko's
 *       down-removal margin + shard allocation + {@code recoverySettle} + grace after the crash); a user with a connection on a surviving node gets no offline/online pair;
 *   <li>a send accepted while the user's connections are all on surviving nodes is handed once to each,
 *       also while shards move, and the answer counts exactly those.
 * </ol>
 *
 * <p>Besides the states, an entity is made of: {@link ConnectionSet} (the connection set, its
 * watches, the per-user limit and the per-node fan-out), {@link StoppedConnectionCheck},
 * {@link RejoinWait} (only while connections are expected back) and {@link OnlineRecordWriter}.
 */
public final class UserPresence {

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

  /** Starts the entity (when its node is gone, to recover the user recorded online there). */
  public record Wake() implements Command, CborSerializable {}

  /** Pekko reports a watched connection actor stopped. */
  record ConnectionStopped(String connectionId, ActorRef<ToConnection> connection) implements Command {}

  /** A connection reported stopped was asked whether it is still there, and did not answer in time. */
  record CheckTimedOut(String connectionId, ActorRef<ToConnection> connection) implements Command {}

  /** Watch again a connection that answered the check (its node should be Up here by now). */
  record Rewatch(String connectionId, ActorRef<ToConnection> connection) implements Command {}

  /** The rejoin window (or limit) is over: deliver held sends, or look again. */
  enum FlushHeld implements Command {
    INSTANCE
  }

  /** The record opening the online period was written: the online event, if any, may go out. */
  enum OnlineRecorded implements Command {
    INSTANCE
  }

  /** A record write whose outcome needs no action (update, removal, grace start or end). */
  enum RecordWritten implements Command {
    INSTANCE
  }

  private enum Idle implements Command {
    INSTANCE
  }

  private enum GraceOver implements Command {
    INSTANCE
  }

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

  /**
   * How the entity uses its {@link OnlineRecords}: how long a majority read or write may take, and how
   * long a recovered user's connections have to rejoin.
   */
  public record Records(Duration timeout, Duration recoverySettle) {}

  /**
   * How long the entity waits for what, and how much it keeps meanwhile ({@code switchboard.presence.*};
   * what they mean and how they must relate is in reference.conf, checked at start).
   */
  public record Limits(
      Duration rejoinWindow,
      Duration namedRejoinLimit,
      Duration stoppedCheck,
      int maxHeldSends,
      int maxStashedWhileLoading) {

    /** reference.conf's defaults, for entities started by hand (tests). */
    public static final Limits DEFAULTS =
        new Limits(Duration.ofSeconds(2), Duration.ofSeconds(15), Duration.ofSeconds(1), 1000, 10_000);
  }

  /** Starts sharding of user entities on this node; their events go to this node's {@code events}. */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter,
      int maxConnections,
      Records records,
      Limits limits) {
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
                            records,
                            limits))
                .withStopMessage(HandOff.INSTANCE));
  }

  /** An entity with the default {@link Limits}. */
  public static Behavior<Command> create(
      String userId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter,
      int maxConnections,
      Records records) {
    return create(
        userId, shard, events, offlineGrace, passivateAfter, maxConnections, records, Limits.DEFAULTS);
  }

  public static Behavior<Command> create(
      String userId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter,
      int maxConnections,
      Records records,
      Limits limits) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    Behaviors.<Command>withStash(
                        limits.maxStashedWhileLoading(),
                        stash ->
                            new UserPresence(
                                    context, timers, userId, shard, events, offlineGrace,
                                    passivateAfter, maxConnections, records, limits)
                                .loading(stash))));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final String userId;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorRef<PresenceEvents.Command> events;
  private final Duration offlineGrace;
  private final Duration passivateAfter;
  private final Records records;
  private final Limits limits;
  /** This node's replica of the online records. */
  private final ActorRef<OnlineRecords.Command> store;
  private final SwitchboardMetrics metrics;
  private final ConnectionSet connections;
  private final OnlineRecordWriter writer;
  /** While the user's connections are expected back after a move or crash; else null. */
  private RejoinWait rejoinWait;
  private long seq;

  private UserPresence(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      String userId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      ActorRef<PresenceEvents.Command> events,
      Duration offlineGrace,
      Duration passivateAfter,
      int maxConnections,
      Records records,
      Limits limits) {
    this.context = context;
    this.timers = timers;
    this.userId = userId;
    this.shard = shard;
    this.events = events;
    this.offlineGrace = offlineGrace;
    this.passivateAfter = passivateAfter;
    this.records = records;
    this.limits = limits;
    this.store = OnlineRecords.get(context.getSystem()).ref();
    this.metrics = SwitchboardMetrics.get(context.getSystem());
    this.connections = new ConnectionSet(
        context, new StoppedConnectionCheck(timers, limits.stoppedCheck()), maxConnections);
    this.writer = new OnlineRecordWriter(
        store,
        context.getSelf(),
        timers,
        userId,
        Cluster.get(context.getSystem()).selfMember().address().toString(),
        records.timeout(),
        connections);
  }

  // ---- loading ----

  /**
   * Nothing is handled before the record is read: what an earlier incarnation announced decides what
   * this one may announce. (A read that reaches no majority in time answers with this node's replica.)
   */
  private Behavior<Command> loading(StashBuffer<Command> stash) {
    load();
    return Behaviors.receive(Command.class)
        .onMessage(
            Loaded.class,
            loaded -> {
              timers.cancel(LoadAgain.INSTANCE);
              return stash.unstashAll(started(loaded.entry()));
            })
        .onMessage(
            LoadAgain.class,
            again -> {
              load();
              return Behaviors.same();
            })
        .onAnyMessage(
            message -> {
              stash.stash(message);
              return Behaviors.same();
            })
        .build();
  }

  private void load() {
    store.tell(new OnlineRecords.Get<Command>(
        userId, true, records.timeout(), context.getSelf(), Loaded::new));
    timers.startSingleTimer(LoadAgain.INSTANCE, records.timeout().multipliedBy(2));
  }

  /** The first state once the record is read ({@code recorded} null: there is none). */
  private State started(OnlineRecords.Entry recorded) {
    metrics.entities.incrementAndGet();
    if (recorded == null) {
      context.setReceiveTimeout(passivateAfter, Idle.INSTANCE);
      return new Offline(null);
    }
    // An earlier incarnation announced the user online and never offline: carry on from there, and
    // give the user's surviving connections time to re-register before deciding they are gone.
    metrics.onlineUsers.incrementAndGet();
    writer.resume(recorded);
    State state;
    if (recorded.graceSince() > 0) {
      // Moved during the offline grace: the grace goes on from when it started.
      long left = recorded.graceSince() + offlineGrace.toMillis() - System.currentTimeMillis();
      timers.startSingleTimer(GraceOver.INSTANCE, Duration.ofMillis(Math.max(0, left)));
      state = new InGrace();
    } else {
      rejoinWait = RejoinWait.forRecord(
          recorded, Cluster.get(context.getSystem()), timers, limits, records.recoverySettle());
      timers.startSingleTimer(
          GraceOver.INSTANCE, RejoinWait.max(offlineGrace, records.recoverySettle()));
      state = new Recovering();
    }
    if (writer.writtenElsewhere(recorded)) {
      writer.reopen();
    }
    return state;
  }

  // ---- the states ----

  /** A state of the entity once its record is read. */
  private abstract class State extends Receive<Command> {

    /** Whether the user is online (counted in this node's metrics) in this state. */
    abstract boolean online();

    /** Whether the user is online with no connection (the presence answer's inGrace). */
    boolean inGrace() {
      return false;
    }

    @Override
    public Behavior<Command> receiveSignal(Signal signal) {
      if (signal instanceof PostStop) {
        metrics.entities.decrementAndGet();
        if (online()) {
          metrics.onlineUsers.decrementAndGet();
        }
        return this;
      }
      return Behaviors.unhandled();
    }

    /** What every state answers alike. */
    final Behavior<Command> common(Command command) {
      if (command instanceof GetPresence get) {
        get.replyTo().tell(new Snapshot(online(), inGrace(), connections.infos()));
      } else if (command instanceof CloseConnections close) {
        close.replyTo().tell(new Closed(connections.close(close.code(), close.reason())));
      } else if (command instanceof FlushHeld) {
        if (rejoinWait != null && !rejoinWait.waitLonger()) {
          releaseHeld();
        }
      } else if (command instanceof OnlineRecorded) {
        opened();
      } else if (command instanceof Wake
          || command instanceof RecordWritten
          || command instanceof Loaded
          || command instanceof LoadAgain) {
        // Wake has started the entity already; a write needs nothing; a repeated read came back late.
      } else {
        return Behaviors.unhandled();
      }
      return this;
    }
  }

  /** No connection, not online. */
  private final class Offline extends State {
    /**
     * The id of the offline event this incarnation emitted last, or null: a rejoin after it starts a
     * new online period, announced (it came too late for the recovery).
     */
    private final String announcedOffline;

    Offline(String announcedOffline) {
      this.announcedOffline = announcedOffline;
    }

    @Override
    boolean online() {
      return false;
    }

    @Override
    public Behavior<Command> receiveMessage(Command command) {
      if (command instanceof SendToUser send) {
        return sendOrHold(send, this);
      } else if (command instanceof Register register) {
        return onRegister(register);
      } else if (command instanceof Idle) {
        shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
        return this;
      } else if (command instanceof HandOff) {
        return Behaviors.stopped();
      } else if (command instanceof Unregister
          || command instanceof ConnectionStopped
          || command instanceof CheckTimedOut
          || command instanceof Rewatch
          || command instanceof GraceOver) {
        return this; // about a connection that is gone already, or a timer that lost the race
      }
      return common(command);
    }

    private Behavior<Command> onRegister(Register register) {
      if (admit(register) == ConnectionSet.Admission.REFUSED) {
        return this;
      }
      metrics.onlineUsers.incrementAndGet();
      // A rejoin to an incarnation that found no record: the user was announced, only the record is
      // missing; write it, announce nothing.
      writer.open(RandomIds.next(), !register.rejoin() || announcedOffline != null);
      return acknowledge(register, new Online());
    }
  }

  /** Online with connections (or none yet while the record opening the online period is written). */
  private final class Online extends State {
    @Override
    boolean online() {
      return true;
    }

    @Override
    public Behavior<Command> receiveMessage(Command command) {
      if (command instanceof SendToUser send) {
        return sendOrHold(send, this);
      } else if (command instanceof Register register) {
        ConnectionSet.Admission admission = admit(register);
        if (admission == ConnectionSet.Admission.REFUSED) {
          return this;
        }
        if (admission == ConnectionSet.Admission.ADDED) {
          // Keep the record's list exact (rejoins after a move too), so that an incarnation after a
          // crash waits for this connection.
          writer.update();
        }
        return acknowledge(register, this);
      } else if (command instanceof Unregister unregister) {
        return removed(connections.remove(unregister.connectionId(), null));
      } else if (command instanceof ConnectionStopped stopped) {
        return removed(connections.stopped(stopped));
      } else if (command instanceof CheckTimedOut timedOut) {
        return removed(connections.remove(timedOut.connectionId(), timedOut.connection()));
      } else if (command instanceof Rewatch rewatch) {
        connections.rewatch(rewatch);
        return this;
      } else if (command instanceof OnlineRecorded) {
        opened();
        return whenNoConnections();
      } else if (command instanceof HandOff) {
        return handOff(this);
      } else if (command instanceof Idle || command instanceof GraceOver) {
        return this; // a timer that lost the race with a registration
      }
      return common(command);
    }

    private Behavior<Command> removed(boolean removed) {
      if (!removed) {
        return this;
      }
      if (!connections.isEmpty()) {
        writer.update();
        return this;
      }
      return whenNoConnections();
    }

    /** With no connection left: the grace, or offline; not while the online record is written. */
    private Behavior<Command> whenNoConnections() {
      if (!connections.isEmpty() || writer.opening()) {
        return this;
      }
      if (offlineGrace.isZero()) {
        return goOffline();
      }
      writer.startGrace();
      timers.startSingleTimer(GraceOver.INSTANCE, offlineGrace);
      return new InGrace();
    }
  }

  /** Online with no connection, for the offline grace (which went on across a move, if any). */
  private final class InGrace extends State {
    @Override
    boolean online() {
      return true;
    }

    @Override
    boolean inGrace() {
      return true;
    }

    @Override
    public Behavior<Command> receiveMessage(Command command) {
      if (command instanceof SendToUser send) {
        return sendOrHold(send, this);
      } else if (command instanceof Register register) {
        if (admit(register) == ConnectionSet.Admission.REFUSED) {
          return this;
        }
        // Back within the grace: the same online period goes on, nothing is announced.
        timers.cancel(GraceOver.INSTANCE);
        writer.endGrace(); // that write names the connection
        return acknowledge(register, new Online());
      } else if (command instanceof GraceOver) {
        return graceOver();
      } else if (command instanceof HandOff) {
        return handOff(this);
      } else if (command instanceof Unregister
          || command instanceof ConnectionStopped
          || command instanceof CheckTimedOut
          || command instanceof Rewatch
          || command instanceof Idle) {
        return this; // about a connection that is gone already
      }
      return common(command);
    }
  }

  /**
   * Started from a record of the user online: the user's connections are expected to rejoin, for the
   * recovery settle (or the grace, if longer), and sends are held meanwhile ({@link RejoinWait}).
   */
  private final class Recovering extends State {
    @Override
    boolean online() {
      return true;
    }

    @Override
    boolean inGrace() {
      return true;
    }

    @Override
    public Behavior<Command> receiveMessage(Command command) {
      if (command instanceof SendToUser send) {
        return sendOrHold(send, this);
      } else if (command instanceof Register register) {
        ConnectionSet.Admission admission = admit(register);
        if (admission == ConnectionSet.Admission.REFUSED) {
          return this;
        }
        timers.cancel(GraceOver.INSTANCE);
        if (admission == ConnectionSet.Admission.ADDED) {
          writer.update(); // the new incarnation names the connections that rejoin it
        }
        return acknowledge(register, new Online());
      } else if (command instanceof GraceOver) {
        return graceOver();
      } else if (command instanceof HandOff) {
        return handOff(this);
      } else if (command instanceof Unregister
          || command instanceof ConnectionStopped
          || command instanceof CheckTimedOut
          || command instanceof Rewatch
          || command instanceof Idle) {
        return this; // about a connection of an earlier incarnation
      }
      return common(command);
    }
  }

  /**
   * The shard moves: the record is being written (naming the connections, so the new home knows whom
   * to wait for); meanwhile the entity goes on as {@code from}. Connections re-register at the new home
   * by themselves, but a user in the offline grace (or still recovering) has none: the entity is woken
   * at its new home, through sharding (which holds the message until the shard is there), so that the
   * grace ends there and offline is not forgotten.
   */
  private final class HandingOff extends State {
    private final State from;

    HandingOff(State from) {
      this.from = from;
    }

    @Override
    boolean online() {
      return from.online();
    }

    @Override
    boolean inGrace() {
      return from.inGrace();
    }

    @Override
    public Behavior<Command> receiveMessage(Command command) throws Exception {
      if (command instanceof HandOffRecorded) {
        ClusterSharding.get(context.getSystem()).entityRefFor(TYPE_KEY, userId).tell(new Wake());
        return Behaviors.stopped();
      } else if (command instanceof HandOff) {
        return this;
      }
      Behavior<Command> next = from.receiveMessage(command);
      if (next == from) {
        return this;
      }
      return next instanceof State state ? new HandingOff(state) : next;
    }
  }

  // ---- what the states share ----

  /** Takes a registration into the connection set (a refused one is told to close). */
  private ConnectionSet.Admission admit(Register register) {
    ConnectionSet.Admission admission = connections.register(register);
    if (admission != ConnectionSet.Admission.REFUSED) {
      context.cancelReceiveTimeout();
    }
    return admission;
  }

  /** Acknowledges a taken registration and goes to {@code next}; the last rejoin awaited ends the wait. */
  private Behavior<Command> acknowledge(Register register, State next) {
    register.connection().tell(new ToConnection.Registered(context.getSelf()));
    if (rejoinWait != null && rejoinWait.rejoined(register.connectionId())) {
      releaseHeld(); // every connection the record named is back
    }
    return next;
  }

  /** The hot path: a send is handed to the connections now, unless connections are expected back. */
  private Behavior<Command> sendOrHold(SendToUser send, State state) {
    if (rejoinWait == null || !rejoinWait.hold(send, connections.isEmpty())) {
      deliver(send);
    }
    return state;
  }

  private void deliver(SendToUser send) {
    int delivered = connections.deliver(send.message());
    send.replyTo().tell(new Delivered(delivered));
    metrics.sends.increment();
    metrics.deliveries.increment(delivered);
  }

  /** Ends the wait for rejoining connections: held sends go to the connections there are now. */
  private void releaseHeld() {
    List<SendToUser> sends = rejoinWait.release();
    rejoinWait = null;
    sends.forEach(this::deliver);
  }

  /** The record opening the online period is written: its online event, if any, goes out. */
  private void opened() {
    String announce = writer.opened();
    if (announce != null) {
      emit(PresenceEvent.Kind.online, announce);
    }
  }

  /** The grace (or the recovery) passed with no connection: offline. */
  private Behavior<Command> graceOver() {
    if (rejoinWait != null) {
      releaseHeld();
    }
    return goOffline();
  }

  private State goOffline() {
    metrics.onlineUsers.decrementAndGet();
    String offline = writer.offlineEventId();
    emit(PresenceEvent.Kind.offline, offline);
    writer.remove();
    context.setReceiveTimeout(passivateAfter, Idle.INSTANCE);
    return new Offline(offline);
  }

  /** Names the connections in the record first, then wakes the entity at its new home. */
  private State handOff(State from) {
    writer.write(HandOffRecorded.INSTANCE);
    return new HandingOff(from);
  }

  private void emit(PresenceEvent.Kind kind, String eventId) {
    long now = System.currentTimeMillis();
    seq = Math.max(seq + 1, now);
    events.tell(new PresenceEvents.Publish(new PresenceEvent(eventId, userId, kind, seq, now)));
  }
}
