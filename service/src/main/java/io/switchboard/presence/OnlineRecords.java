package io.switchboard.presence;

import io.switchboard.cluster.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The replicated record of which users are online and on which node their entity runs: a map from user
 * id to an {@link Entry}, with a replica on every node (an actor at {@code /system/presence-records}).
 * It outlives any one node: a user's entity that starts anywhere reads it to learn that an earlier
 * incarnation had announced the user online, and when a node is removed the survivors find the users
 * whose entity died with it.
 *
 * <p>Replication, entry by entry (Distributed Data's maps replicated whole buckets: every majority
 * write or read of one user's record carried its bucket's every record, which at 15,000 users on three
 * nodes was half of all the nodes' CPU):
 *
 * <ul>
 *   <li>a write (set or remove) is applied here at once, with a version above the entry's here
 *       ({@code max(now, last + 1)}), sent to every other member's replica, and answered once a
 *       majority of the members (this node included) have it, or at its timeout, when it has reached
 *       whom it could;
 *   <li>a majority read asks every other replica, keeps the newest version it hears of, and answers once
 *       a majority (this one included) has answered, or at its timeout with what it has;
 *   <li>replicas merge: of two versions of an entry the higher (version, writer) wins (on the rare
 *       tie the contents decide, so that replicas still agree); a removal stays as a tombstone for
 *       {@link RecordReplica#TOMBSTONE_TTL}, so that an older copy cannot bring the entry back
 *       ({@link RecordReplica} holds a replica's entries and this rule);
 *   <li>catching up: when a member becomes Up, or reachable again, this replica asks it for all its
 *       entries (a node that joins gets everything; both sides of a healed partition swap theirs); and
 *       every {@code switchboard.presence.record-gossip-interval} it sends a random member the digests
 *       of its buckets and gets back the entries of those that differ, for a write lost on the way.
 * </ul>
 *
 * <p>Only a user's entity writes the user's entry, so outside a split brain an entry has one writer at a
 * time, whose versions increase; a new incarnation reads with majority consistency first, so its
 * versions continue above the last incarnation's. Entries, with their connections, cross nodes as
 * records in Jackson CBOR ({@link Item}).
 */
public final class OnlineRecords implements Extension {

  /**
   * One online user's record. The grace start is the epoch millisecond the user's last connection went
   * (0: the user has connections), so that an entity that moves during the offline grace continues the
   * grace instead of starting it again. {@code connections} lists the user's connections: the entity
   * rewrites the record whenever a connection joins or leaves, so a new incarnation knows whom to wait
   * for (and skips those on nodes that are gone).
   */
  record Entry(
      String onlineEventId, String host, long graceSince, List<RecordedConnection> connections) {
    Entry {
      connections = connections == null ? List.of() : List.copyOf(connections);
    }

    /** A hash of the contents, the same on every node (a record's own hashCode is unspecified). */
    long digest() {
      long h = Objects.hashCode(onlineEventId);
      h = 31 * h + Objects.hashCode(host);
      h = 31 * h + Long.hashCode(graceSince);
      for (RecordedConnection connection : connections) {
        h = 31 * h + Objects.hashCode(connection.id());
        h = 31 * h + Objects.hashCode(connection.node());
      }
      return h;
    }
  }

  /** A connection of a recorded user: its id, and the node ({@code host:port}) it is on. */
  record RecordedConnection(String id, String node) {}

  public interface Command {}

  /**
   * Reads {@code userId}'s record, from a majority of the replicas or ({@code majority} false) from
   * this one, and tells {@code replyTo} {@code answer} of it (of null when the user has none).
   */
  public record Get<T>(
      String userId,
      boolean majority,
      Duration timeout,
      ActorRef<T> replyTo,
      Function<Entry, T> answer)
      implements Command {}

  /**
   * Sets {@code userId}'s record to {@code entry}, or removes it ({@code entry} null); tells
   * {@code replyTo} {@code answer} once a majority has it, or at the timeout.
   */
  public record Put<T>(String userId, Entry entry, Duration timeout, ActorRef<T> replyTo, T answer)
      implements Command {}

  /** Tells {@code replyTo} which users this replica records with their entity on {@code host}. */
  public record UsersOnHost<T>(String host, ActorRef<T> replyTo, Function<List<String>, T> answer)
      implements Command {}

  /**
   * One version of a user's record; {@code entry} null: removed (a tombstone). Which of two versions
   * wins is {@link RecordReplica#merge(Item, Item)}.
   */
  record Item(String userId, long version, String writer, Entry entry) implements CborSerializable {
    long digest() {
      long h = userId.hashCode();
      h = h * 0x9E3779B97F4A7C15L + version;
      h = h * 0x9E3779B97F4A7C15L + writer.hashCode();
      h = h * 0x9E3779B97F4A7C15L + (entry == null ? 0 : entry.digest());
      // MurmurHash3's finalizer, so that buckets' XORs of these do not cancel by accident.
      h ^= h >>> 33;
      h *= 0xFF51AFD7ED558CCDL;
      h ^= h >>> 33;
      h *= 0xC4CEB9FE1A85EC53L;
      return h ^ (h >>> 33);
    }
  }

  /** A write from another replica; answered with an {@link Ack} of {@code request}. */
  record Replicate(long request, Item item, ActorRef<Command> replyTo)
      implements Command, CborSerializable {}

  record Ack(long request) implements Command, CborSerializable {}

  /** A majority read from another replica; answered with a {@link ReadResult}. */
  record Read(long request, String userId, ActorRef<Command> replyTo)
      implements Command, CborSerializable {}

  /** {@code item} null: this replica has no version of the user's record. */
  record ReadResult(long request, Item item) implements Command, CborSerializable {}

  /** Send {@code replyTo} every entry (a member that became Up or reachable there). */
  record Pull(ActorRef<Command> replyTo) implements Command, CborSerializable {}

  /** Send {@code replyTo} the entries of the buckets whose digest is not {@code digests}'s. */
  record Digests(long[] digests, ActorRef<Command> replyTo) implements Command, CborSerializable {}

  /** Entries to merge. */
  record Items(List<Item> items) implements Command, CborSerializable {}

  private record RequestTimedOut(long request) implements Command {}

  private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {}

  private record Reachable(ClusterEvent.ReachableMember event) implements Command {}

  private enum Gossip implements Command {
    INSTANCE
  }

  /** How often expired tombstones are dropped. */
  private static final Duration PURGE_INTERVAL = Duration.ofMinutes(1);

  /** Most entries sent back for one gossip round; the rest differ again in the next. */
  private static final int MAX_REPAIR = 2000;

  /** Entries per message, well under Artery's frame size. */
  private static final int CHUNK = 200;

  static final String NAME = "presence-records";

  private static final ExtensionId<OnlineRecords> ID =
      new ExtensionId<>() {
        @Override
        public OnlineRecords createExtension(ActorSystem<?> system) {
          // Restarted on a failure: the new replica pulls every entry from each member again.
          Behavior<Command> replica =
              Behaviors.supervise(Replica.create()).onFailure(SupervisorStrategy.restart());
          return new OnlineRecords(system.systemActorOf(replica, NAME, Props.empty()));
        }
      };

  /** This node's replica, started on first use (the node's guardian starts it with the node). */
  public static OnlineRecords get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private final ActorRef<Command> ref;

  private OnlineRecords(ActorRef<Command> ref) {
    this.ref = ref;
  }

  public ActorRef<Command> ref() {
    return ref;
  }

  /** A write or majority read waiting for answers from other replicas. */
  private static final class Pending {
    int awaited;
    final Runnable done;

    Pending(int awaited, Runnable done) {
      this.awaited = awaited;
      this.done = done;
    }
  }

  /**
   * The replica's messaging: the requests of this node's entities, the writes and reads of the other
   * replicas, the majority each waits for, and the catching up. Its data is a {@link RecordReplica}.
   */
  private static final class Replica extends AbstractBehavior<Command> {
    static Behavior<Command> create() {
      return Behaviors.setup(
          context -> Behaviors.withTimers(timers -> new Replica(context, timers)));
    }

    private final TimerScheduler<Command> timers;
    private final ActorRefResolver resolver;
    private final Address self;
    /** The other members' replicas (Up or leaving): where writes go, and whose answers count. */
    private final Map<UniqueAddress, ActorRef<Command>> peers = new LinkedHashMap<>();
    private final RecordReplica records;
    private final Map<Long, Pending> pending = new HashMap<>();
    /** Starts at random: an answer to a request made before a restart matches no new one. */
    private long nextRequest = ThreadLocalRandom.current().nextLong();
    private long lastPurge = System.currentTimeMillis();

    private Replica(ActorContext<Command> context, TimerScheduler<Command> timers) {
      super(context);
      this.timers = timers;
      this.resolver = ActorRefResolver.get(context.getSystem());
      Cluster cluster = Cluster.get(context.getSystem());
      this.self = cluster.selfMember().address();
      this.records = new RecordReplica(self.toString());
      cluster.subscriptions().tell(Subscribe.create(
          context.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new),
          ClusterEvent.MemberEvent.class));
      cluster.subscriptions().tell(Subscribe.create(
          context.messageAdapter(ClusterEvent.ReachableMember.class, Reachable::new),
          ClusterEvent.ReachableMember.class));
      timers.startTimerWithFixedDelay(
          Gossip.INSTANCE,
          context.getSystem().settings().config()
              .getDuration("switchboard.presence.record-gossip-interval"));
    }

    @Override
    public Receive<Command> createReceive() {
      return newReceiveBuilder()
          .onMessage(Get.class, get -> onGet((Get<?>) get))
          .onMessage(Put.class, put -> onPut((Put<?>) put))
          .onMessage(UsersOnHost.class, query -> onUsersOnHost((UsersOnHost<?>) query))
          .onMessage(Replicate.class, this::onReplicate)
          .onMessage(Ack.class, ack -> answered(ack.request()))
          .onMessage(Read.class, this::onRead)
          .onMessage(ReadResult.class, this::onReadResult)
          .onMessage(RequestTimedOut.class, this::onRequestTimedOut)
          .onMessage(Pull.class, pull -> send(pull.replyTo(), records.items()))
          .onMessage(Digests.class, this::onDigests)
          .onMessage(Items.class, this::onItems)
          .onMessage(MemberChanged.class, this::onMemberChanged)
          .onMessage(Reachable.class, this::onReachable)
          .onMessage(Gossip.class, this::onGossip)
          .build();
    }

    private Behavior<Command> onGet(Get<?> get) {
      if (!get.majority() || peers.isEmpty()) {
        answer(get);
        return this;
      }
      long request = begin(get.timeout(), () -> answer(get));
      peers.values().forEach(peer -> peer.tell(new Read(request, get.userId(), getContext().getSelf())));
      return this;
    }

    private <T> void answer(Get<T> get) {
      get.replyTo().tell(get.answer().apply(records.entry(get.userId())));
    }

    private static <T> void answer(Put<T> put) {
      put.replyTo().tell(put.answer());
    }

    private Behavior<Command> onPut(Put<?> put) {
      Item item = records.write(put.userId(), put.entry(), System.currentTimeMillis());
      if (peers.isEmpty()) {
        answer(put);
        return this;
      }
      long request = begin(put.timeout(), () -> answer(put));
      peers.values().forEach(peer -> peer.tell(new Replicate(request, item, getContext().getSelf())));
      return this;
    }

    /** Registers a request that is done when a majority answered; returns its id. */
    private long begin(Duration timeout, Runnable done) {
      long request = nextRequest++;
      int majority = (peers.size() + 1) / 2 + 1;
      pending.put(request, new Pending(majority - 1, done));
      timers.startSingleTimer(request, new RequestTimedOut(request), timeout);
      return request;
    }

    private Behavior<Command> answered(long request) {
      Pending waiting = pending.get(request);
      if (waiting != null && --waiting.awaited <= 0) {
        pending.remove(request);
        timers.cancel(request);
        waiting.done.run();
      }
      return this;
    }

    private Behavior<Command> onRequestTimedOut(RequestTimedOut timedOut) {
      Pending waiting = pending.remove(timedOut.request());
      if (waiting != null) {
        waiting.done.run();
      }
      return this;
    }

    private Behavior<Command> onReplicate(Replicate replicate) {
      records.merge(replicate.item(), System.currentTimeMillis());
      replicate.replyTo().tell(new Ack(replicate.request()));
      return this;
    }

    private Behavior<Command> onRead(Read read) {
      read.replyTo().tell(new ReadResult(read.request(), records.item(read.userId())));
      return this;
    }

    private Behavior<Command> onReadResult(ReadResult result) {
      if (result.item() != null) {
        records.merge(result.item(), System.currentTimeMillis());
      }
      return answered(result.request());
    }

    private Behavior<Command> onUsersOnHost(UsersOnHost<?> query) {
      answer(query, records.usersOnHost(query.host()));
      return this;
    }

    private static <T> void answer(UsersOnHost<T> query, List<String> users) {
      query.replyTo().tell(query.answer().apply(users));
    }

    private Behavior<Command> onItems(Items items) {
      records.mergeAll(items.items(), System.currentTimeMillis());
      return this;
    }

    private Behavior<Command> onDigests(Digests theirs) {
      if (theirs.digests().length != RecordReplica.BUCKETS) {
        getContext().getLog().warn(
            "ignoring digests of {} buckets (here: {})",
            theirs.digests().length,
            RecordReplica.BUCKETS);
        return this;
      }
      return send(theirs.replyTo(), records.differing(theirs.digests(), MAX_REPAIR));
    }

    private Behavior<Command> send(ActorRef<Command> to, List<Item> items) {
      for (int from = 0; from < items.size(); from += CHUNK) {
        to.tell(new Items(List.copyOf(items.subList(from, Math.min(items.size(), from + CHUNK)))));
      }
      return this;
    }

    private Behavior<Command> onMemberChanged(MemberChanged changed) {
      Member member = changed.event().member();
      if (member.address().equals(self)) {
        return this;
      }
      // By unique address: a node restarted at the same host:port is another member.
      MemberStatus status = member.status();
      if (status.equals(MemberStatus.up()) || status.equals(MemberStatus.leaving())) {
        if (!peers.containsKey(member.uniqueAddress())) {
          ActorRef<Command> peer = resolver.resolveActorRef(member.address() + "/system/" + NAME);
          peers.put(member.uniqueAddress(), peer);
          peer.tell(new Pull(getContext().getSelf()));
        }
      } else {
        peers.remove(member.uniqueAddress());
      }
      return this;
    }

    private Behavior<Command> onReachable(Reachable reachable) {
      ActorRef<Command> peer = peers.get(reachable.event().member().uniqueAddress());
      if (peer != null) {
        // Writes sent while it was unreachable may not have arrived in either direction.
        peer.tell(new Pull(getContext().getSelf()));
      }
      return this;
    }

    private Behavior<Command> onGossip(Gossip gossip) {
      long now = System.currentTimeMillis();
      if (now - lastPurge > PURGE_INTERVAL.toMillis()) {
        lastPurge = now;
        records.purgeTombstones(now);
      }
      if (!peers.isEmpty()) {
        List<ActorRef<Command>> all = new ArrayList<>(peers.values());
        all.get(ThreadLocalRandom.current().nextInt(all.size()))
            .tell(new Digests(records.digests(), getContext().getSelf()));
      }
      return this;
    }
  }
}
