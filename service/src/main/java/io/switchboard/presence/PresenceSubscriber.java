package io.switchboard.presence;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/** Subscribes this node to the cluster-wide presence topic and hands each event to the node's hub. */
public final class PresenceSubscriber {
  private PresenceSubscriber() {}

  public static Behavior<PresenceChanged> create(
      ActorRef<Topic.Command<PresenceChanged>> topic, PresenceEventHub hub) {
    return Behaviors.setup(
        context -> {
          topic.tell(Topic.subscribe(context.getSelf()));
          return Behaviors.receiveMessage(
              changed -> {
                hub.publish(changed.event());
                return Behaviors.same();
              });
        });
  }
}
