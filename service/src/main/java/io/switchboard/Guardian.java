package io.switchboard;

import io.switchboard.presence.PresenceChanged;
import io.switchboard.presence.PresenceEventHub;
import io.switchboard.presence.PresenceSubscriber;
import io.switchboard.presence.UserPresence;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * Wires a node: the cluster-wide presence topic, this node's subscription to it, and sharding of the
 * {@link UserPresence} entities. Completes {@code started} once sharding runs on this node.
 */
final class Guardian {
  static final String PRESENCE_TOPIC = "presence-events";

  private Guardian() {}

  static Behavior<Void> create(
      PresenceEventHub hub, Duration passivateAfter, CompletableFuture<Void> started) {
    return Behaviors.setup(
        context -> {
          ActorRef<Topic.Command<PresenceChanged>> topic =
              context.spawn(Topic.create(PresenceChanged.class, PRESENCE_TOPIC), "presence-topic");
          context.spawn(PresenceSubscriber.create(topic, hub), "presence-subscriber");
          UserPresence.initSharding(context.getSystem(), topic, passivateAfter);
          started.complete(null);
          return Behaviors.empty();
        });
  }
}
