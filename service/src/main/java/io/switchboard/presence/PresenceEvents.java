package io.switchboard.presence;

import io.switchboard.cluster.CborSerializable;
import io.switchboard.events.WebhookDispatcher;
import io.switchboard.protocol.PresenceEvent;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Carries presence events from the entity that decided them to every node of the cluster, one actor
 * of this kind per node (at {@code /user/presence-events}), each handing what it receives to its node's
 * {@link PresenceEventHub}.
 *
 * <p>The fan-out follows cluster membership, not a subscription registry: a node is Up only once every
 * node has seen it join (gossip convergence), so every node that is ready receives every event decided
 * after it became ready. Delivery is at most once (a message between two nodes can be lost when their
 * connection breaks); events of one user arrive in order, because they come from one entity through
 * one actor per node.
 */
public final class PresenceEvents {
  public static final String NAME = "presence-events";

  public interface Command {}

  /** An event decided by an entity on this node, to be sent to every node. */
  public record Publish(PresenceEvent event) implements Command {}

  /** An event arriving from the node that published it (this one included). */
  public record Deliver(PresenceEvent event) implements Command, CborSerializable {}

  /** Members that are (or are about to be) running and may have listeners. */
  private static final Set<MemberStatus> ALIVE =
      Set.of(MemberStatus.joining(), MemberStatus.weaklyUp(), MemberStatus.up(), MemberStatus.leaving());

  private PresenceEvents() {}

  /** @param webhooks the node's webhook dispatcher, or null when there is none */
  public static Behavior<Command> create(
      PresenceEventHub hub, ActorRef<WebhookDispatcher.Command> webhooks) {
    return Behaviors.setup(
        context -> {
          Cluster cluster = Cluster.get(context.getSystem());
          return Behaviors.receive(Command.class)
              .onMessage(
                  Publish.class,
                  publish -> {
                    if (webhooks != null) {
                      // The deciding node alone posts the event, so the app gets it once.
                      webhooks.tell(new WebhookDispatcher.Enqueue(publish.event()));
                    }
                    Deliver deliver = new Deliver(publish.event());
                    for (Member member : cluster.state().getMembers()) {
                      if (member.equals(cluster.selfMember())) {
                        hub.publish(publish.event());
                      } else if (ALIVE.contains(member.status())) {
                        context
                            .classicActorContext()
                            .actorSelection(member.address() + "/user/" + NAME)
                            .tell(deliver, org.apache.pekko.actor.ActorRef.noSender());
                      }
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  Deliver.class,
                  deliver -> {
                    hub.publish(deliver.event());
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
