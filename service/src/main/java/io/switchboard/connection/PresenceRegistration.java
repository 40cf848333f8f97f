package io.switchboard.connection;

import io.switchboard.presence.NodeFanout;
import io.switchboard.presence.ToConnection;
import io.switchboard.presence.UserPresence;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * An authenticated connection's place in its user's {@link UserPresence} entity. It registers when the
 * connection starts and re-sends the registration until the entity acknowledges it ({@link
 * ToConnection.Registered}), then watches the entity: when the entity stops (its shard moved, or its
 * node died) it registers again as a <em>rejoin</em>, so that the new incarnation adopts the connection
 * without announcing the user again. It unregisters when the connection stops.
 *
 * <p>Re-sends wait {@code registerRetry}, doubling while unanswered up to {@link #MAX_RETRY_BACKOFF}
 * times it, each up to a quarter longer. A region that cannot place the user's shard yet buffers every
 * re-send (seen: 100k buffered on a starved three-node cluster, 20 per connection); backing off keeps
 * that burst small. Any sign that the entity restarted starts over at the first wait.
 */
final class PresenceRegistration {

  /** A message of this unit to its connection's actor. */
  sealed interface Message extends ConnectionActor.Command {}

  /** The watched entity stopped. */
  private record PresenceStopped(ActorRef<UserPresence.Command> presence) implements Message {}

  /** Re-send the registration, unless a later send or its answer replaced re-send {@code generation}. */
  private record RetryRegister(int generation) implements Message {}

  private static final int MAX_RETRY_BACKOFF = 8;

  private final ActorContext<ToConnection> context;
  private final RecipientRef<UserPresence.Command> presence;
  private final String connectionId;
  private final String node;
  private final long openedAt;
  /** This node's {@link NodeFanout}, named in the registration. */
  private final ActorRef<NodeFanout.Command> fanout;
  private final Duration registerRetry;
  /** Wait before the next re-send of the registration. */
  private Duration nextRetry;
  /**
   * The registration's scheduled re-send, null once answered. On the system's scheduler, not the
   * actor's timers: Pekko gives every actor that receives a timer message a logging context of its own
   * (a logger and its path as a string, about 190 bytes kept for the actor's life), and on a loaded
   * cluster most connections wait for one re-send (class histograms of three nodes, BENCHMARKS.md §1).
   */
  private Cancellable retry;
  private int retryGeneration;
  private ActorRef<UserPresence.Command> watchedEntity;
  /** The user is known to be online with this connection: a later registration must not announce it. */
  private boolean rejoin;

  /** Registers with {@code presence}, the user's entity (through sharding). */
  PresenceRegistration(
      ActorContext<ToConnection> context,
      RecipientRef<UserPresence.Command> presence,
      String connectionId,
      String node,
      long openedAt,
      Duration registerRetry) {
    this.context = context;
    this.presence = presence;
    this.connectionId = connectionId;
    this.node = node;
    this.openedAt = openedAt;
    this.fanout = NodeFanout.get(context.getSystem()).ref();
    this.registerRetry = registerRetry;
    register();
  }

  void onMessage(Message message) {
    if (message instanceof RetryRegister retrying) {
      if (retrying.generation() == retryGeneration) {
        retryRegister();
      }
    } else if (message instanceof PresenceStopped stopped && stopped.presence().equals(watchedEntity)) {
      watchedEntity = null;
      register();
    }
  }

  void onRegistered(ToConnection.Registered registered) {
    cancelRetry();
    if (!registered.presence().equals(watchedEntity)) {
      if (watchedEntity != null) {
        context.unwatch(watchedEntity);
      }
      watchedEntity = registered.presence();
      context.watchWith(watchedEntity, new PresenceStopped(watchedEntity));
    }
    rejoin = true;
  }

  /** Registers with the user's entity, from the first wait between re-sends. */
  void register() {
    nextRetry = registerRetry;
    sendRegistration();
  }

  /** The connection stopped. */
  void unregister() {
    cancelRetry();
    presence.tell(new UserPresence.Unregister(connectionId));
  }

  private void retryRegister() {
    Duration doubled = nextRetry.multipliedBy(2);
    Duration longest = registerRetry.multipliedBy(MAX_RETRY_BACKOFF);
    nextRetry = doubled.compareTo(longest) > 0 ? longest : doubled;
    sendRegistration();
  }

  private void sendRegistration() {
    presence.tell(
        new UserPresence.Register(connectionId, node, openedAt, context.getSelf(), fanout, rejoin));
    // Up to a quarter later, so that connections that opened together do not re-send together.
    long jitter = ThreadLocalRandom.current().nextLong(nextRetry.toMillis() / 4 + 1);
    cancelRetry();
    retry =
        context.scheduleOnce(
            nextRetry.plusMillis(jitter), context.getSelf(), new RetryRegister(retryGeneration));
  }

  /** No re-send pending from here on: one already queued finds its generation gone. */
  private void cancelRetry() {
    if (retry != null) {
      retry.cancel();
      retry = null;
    }
    retryGeneration++;
  }
}
