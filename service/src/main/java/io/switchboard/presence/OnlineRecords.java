package io.switchboard.presence;

import io.switchboard.cluster.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 *   <li>replicas merge: of two versions of an entry the higher (version, writer) wins; a removal stays
 *       as a tombstone for {@link #TOMBSTONE_TTL}, so that an older copy cannot bring the entry back;
 *   <li>catching up: when a member becomes Up, or reachable again, this replica asks it for all its
 *       entries (a node that joins gets everything; both sides of a healed partition swap theirs); and
 *       every {@code switchboard.presence.record-gossip-interval} it sends a random member the digests
 *       of its buckets and gets back the entries of those that differ, for a write lost on the way.
 * </ul>
 *
 * <p>Only a user's entity writes the user's entry, so outside a split brain an entry has one writer at a
 * time, whose versions increase; a new incarnation reads with majority consistency first, so its
 * versions continue above the last incarnation's.
 */
public final class OnlineRecords implements Extension {

  /**
   * One online user's record. The grace start is the epoch millisecond the user's last connection went
   * (0: the user has connections), so that an entity that moves during the offline grace continues the
   * grace instead of starting it again. {@code connections} lists the user's connections as
   * {@code <id>@<node host:port>}: the entity rewrites the record whenever a connection joins or
   * leaves, so a new incarnation knows whom to wait for (and skips those on nodes that are gone).
   */
  record Entry(String onlineEventId, String host, long graceSince, List<String> connections) {
    String encode() {
      return onlineEventId + " " + host + " " + graceSince + " "
          + (connections.isEmpty() ? "-" : String.join(",", connections));
    }

    static Entry decode(String value) {
      String[] parts = value.split(" ");
      long graceSince = parts.length > 2 ? Long.parseLong(parts[2]) : 0;
      List<String> connections =
          parts.length > 3 && !parts[3].equals("-") ? List.of(parts[3].split(",")) : List.of();
      return new Entry(parts[0], parts[1], graceSince, connections);
    }
  }

  /** {@code <id>@<node>} for a record's connection list. */
  static String connection(String connectionId, String node) {
    return connectionId + "@" + node;
  }

  /** The node of a record's connection entry, or null when it names none. */
  static String nodeOf(String entry) {
    int at = entry.lastIndexOf('@');
    return at < 0 ? null : entry.substring(at + 1);
  }

  /** The connection id of a record's connection entry. */
  static String idOf(String entry) {
    int at = entry.lastIndexOf('@');
    return at < 0 ? entry : entry.substring(0, at);
  }

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

  /** One version of a user's record; {@code value} null: removed. */
  record Item(String userId, long version, String writer, String value) implements CborSerializable {
    /** Whether this version wins over {@code other} of the same user. */
    boolean newerThan(Item other) {
      return version != other.version ? version > other.version : writer.compareTo(other.writer) > 0;
    }

    long digest() {
      long h = userId.hashCode();
      h = h * 0x9E3779B97F4A7C15L + version;
      h = h * 0x9E3779B97F4A7C15L + writer.hashCode();
      h = h * 0x9E3779B97F4A7C15L + (value == null ? 0 : value.hashCode());
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

  /**
   * How long a removed record is remembered, so that an older copy of it is not merged back. Only a
   * replica cut off for longer could still hold one, and the split-brain resolver downs (and so
   * empties) a node cut off from the majority within seconds; if one did, the entity reading the
   * revived record would emit the user's offline again, with the same event id.
   */
  static final Duration TOMBSTONE_TTL = Duration.ofHours(1);

  /** How often expired tombstones are dropped. */
  private static final Duration PURGE_INTERVAL = Duration.ofMinutes(1);

  /** Buckets compared by digest: about 1/1024 of the records each. */
  static final int BUCKETS = 1024;

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

  private static int bucketOf(String userId) {
    return Math.floorMod(Integer.rotateLeft(userId.hashCode() * 0x9E3779B9, 16), BUCKETS);
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

  private static final class Replica extends AbstractBehavior<Command> {
    static Behavior<Command> create() {
      return Behaviors.setup(
          context -> Behaviors.withTimers(timers -> new Replica(context, timers)));
    }

    private final TimerScheduler<Command> timers;
    private final ActorRefResolver resolver;
    private final Address self;
    private final String writer;
    /** The other members' replicas (Up or leaving): where writes go, and whose answers count. */
    private final Map<UniqueAddress, ActorRef<Command>> peers = new LinkedHashMap<>();
    private final List<Map<String, Item>> buckets = new ArrayList<>(BUCKETS);
    /** Per bucket, the XOR of its items' digests. */
    private final long[] digests = new long[BUCKETS];
    private final Map<Long, Pending> pending = new HashMap<>();
    /** The writers' addresses, one string each (a few: the nodes this replica has heard from). */
    private final Map<String, String> writers = new HashMap<>();
    /** Starts at random: an answer to a request made before a restart matches no new one. */
    private long nextRequest = ThreadLocalRandom.current().nextLong();
    private long lastPurge = System.currentTimeMillis();

    private Replica(ActorContext<Command> context, TimerScheduler<Command> timers) {
      super(context);
      this.timers = timers;
      this.resolver = ActorRefResolver.get(context.getSystem());
      Cluster cluster = Cluster.get(context.getSystem());
      this.self = cluster.selfMember().address();
      this.writer = self.toString();
      for (int i = 0; i < BUCKETS; i++) {
        buckets.add(new HashMap<>());
      }
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
          .onMessage(Pull.class, pull -> send(pull.replyTo(), everything()))
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
      get.replyTo().tell(get.answer().apply(entryOf(get.userId())));
    }

    private static <T> void answer(Put<T> put) {
      put.replyTo().tell(put.answer());
    }

    private Behavior<Command> onPut(Put<?> put) {
      Item current = buckets.get(bucketOf(put.userId())).get(put.userId());
      long version = Math.max(System.currentTimeMillis(), current == null ? 0 : current.version() + 1);
      Item item = new Item(
          put.userId(), version, writer, put.entry() == null ? null : put.entry().encode());
      merge(item);
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
      merge(replicate.item());
      replicate.replyTo().tell(new Ack(replicate.request()));
      return this;
    }

    private Behavior<Command> onRead(Read read) {
      read.replyTo().tell(
          new ReadResult(read.request(), buckets.get(bucketOf(read.userId())).get(read.userId())));
      return this;
    }

    private Behavior<Command> onReadResult(ReadResult result) {
      if (result.item() != null) {
        merge(result.item());
      }
      return answered(result.request());
    }

    private Behavior<Command> onUsersOnHost(UsersOnHost<?> query) {
      List<String> users = new ArrayList<>();
      for (Map<String, Item> bucket : buckets) {
        for (Item item : bucket.values()) {
          if (item.value() != null && Entry.decode(item.value()).host().equals(query.host())) {
            users.add(item.userId());
          }
        }
      }
      answer(query, users);
      return this;
    }

    private static <T> void answer(UsersOnHost<T> query, List<String> users) {
      query.replyTo().tell(query.answer().apply(users));
    }

    private Entry entryOf(String userId) {
      Item item = buckets.get(bucketOf(userId)).get(userId);
      return item == null || item.value() == null ? null : Entry.decode(item.value());
    }

    /** Keeps {@code item} if it is newer than the version here (an expired tombstone never is). */
    private void merge(Item item) {
      int bucket = bucketOf(item.userId());
      Item current = buckets.get(bucket).get(item.userId());
      if (current == null ? !expired(item, System.currentTimeMillis()) : item.newerThan(current)) {
        String writer = writers.computeIfAbsent(item.writer(), name -> name);
        if (writer != item.writer()) {
          // Every entry received brings its own copy of the writer's address: keep one per writer.
          item = new Item(item.userId(), item.version(), writer, item.value());
        }
        buckets.get(bucket).put(item.userId(), item);
        digests[bucket] ^= item.digest() ^ (current == null ? 0 : current.digest());
      }
    }

    private static boolean expired(Item item, long now) {
      return item.value() == null && item.version() < now - TOMBSTONE_TTL.toMillis();
    }

    private Behavior<Command> onItems(Items items) {
      items.items().forEach(this::merge);
      return this;
    }

    private List<Item> everything() {
      List<Item> all = new ArrayList<>();
      for (Map<String, Item> bucket : buckets) {
        all.addAll(bucket.values());
      }
      return all;
    }

    private Behavior<Command> onDigests(Digests theirs) {
      if (theirs.digests().length != BUCKETS) {
        getContext().getLog().warn(
            "ignoring digests of {} buckets (here: {})", theirs.digests().length, BUCKETS);
        return this;
      }
      List<Item> differing = new ArrayList<>();
      for (int i = 0; i < BUCKETS && differing.size() < MAX_REPAIR; i++) {
        if (theirs.digests()[i] != digests[i]) {
          differing.addAll(buckets.get(i).values());
        }
      }
      return send(theirs.replyTo(), differing);
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
        purgeTombstones(now);
      }
      if (!peers.isEmpty()) {
        List<ActorRef<Command>> all = new ArrayList<>(peers.values());
        all.get(ThreadLocalRandom.current().nextInt(all.size()))
            .tell(new Digests(digests.clone(), getContext().getSelf()));
      }
      return this;
    }

    private void purgeTombstones(long now) {
      for (int i = 0; i < BUCKETS; i++) {
        var items = buckets.get(i).values().iterator();
        while (items.hasNext()) {
          Item item = items.next();
          if (expired(item, now)) {
            items.remove();
            digests[i] ^= item.digest();
          }
        }
      }
    }
  }
}
