package io.switchboard;

import io.switchboard.config.SwitchboardSettings;
import io.switchboard.presence.PresenceEventHub;
import io.switchboard.presence.PresenceEvents;
import io.switchboard.presence.UserPresence;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Wires a node: its end of the presence event fan-out ({@link PresenceEvents}, at
 * {@code /user/presence-events}) and sharding of the {@link UserPresence} entities. Completes {@code started} once sharding runs on this node.
 */
final class Guardian {
  private Guardian() {}

  static Behavior<Void> create(
      PresenceEventHub hub,
      SwitchboardSettings.PresenceSettings presence,
      CompletableFuture<Void> started) {
    return Behaviors.setup(
        context -> {
          ActorRef<PresenceEvents.Command> events =
              context.spawn(PresenceEvents.create(hub), PresenceEvents.NAME);
          UserPresence.initSharding(
              context.getSystem(), events, presence.offlineGrace(), presence.passivateAfter());
          started.complete(null);
          return Behaviors.empty();
        });
  }
}
