package io.switchboard;

import io.switchboard.config.SwitchboardSettings;
import io.switchboard.events.WebhookDispatcher;
import io.switchboard.presence.OnlineRecords;
import io.switchboard.presence.PresenceEventHub;
import io.switchboard.presence.PresenceEvents;
import io.switchboard.presence.PresenceRecovery;
import io.switchboard.presence.UserPresence;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The actor system's guardian: spawns the node's own actors, its end of the presence event fan-out
 * ({@link PresenceEvents}, at {@code /user/presence-events}), the webhook dispatcher when one is
 * configured, its replica of the {@link OnlineRecords}, and sharding of the {@link UserPresence}
 * entities. Completes {@code started} once sharding runs on this node; {@link NodeWiring} builds
 * the rest of the node (edge, API, shutdown) around it.
 */
final class Guardian {
  private Guardian() {}

  /** What the rest of the node needs from the guardian's children; {@code webhooks} may be null. */
  record Started(ActorRef<WebhookDispatcher.Command> webhooks) {}

  static Behavior<Void> create(
      PresenceEventHub hub, SwitchboardSettings settings, CompletableFuture<Started> started) {
    SwitchboardSettings.PresenceSettings presence = settings.presence();
    return Behaviors.setup(
        context -> {
          ActorRef<WebhookDispatcher.Command> webhooks =
              settings
                  .webhook()
                  .map(webhook -> context.spawn(WebhookDispatcher.create(webhook), "webhooks"))
                  .orElse(null);
          ActorRef<PresenceEvents.Command> events =
              context.spawn(PresenceEvents.create(hub, webhooks), PresenceEvents.NAME);
          // The online records' replica first: other nodes write to it as soon as this one is Up.
          OnlineRecords.get(context.getSystem());
          UserPresence.initSharding(
              context.getSystem(),
              events,
              presence.offlineGrace(),
              presence.passivateAfter(),
              presence.maxConnectionsPerUser(),
              new UserPresence.Records(presence.recordTimeout(), presence.recoverySettle()),
              presence.limits());
          context.spawn(PresenceRecovery.create(), "presence-recovery");
          started.complete(new Started(webhooks));
          return Behaviors.empty();
        });
  }
}
