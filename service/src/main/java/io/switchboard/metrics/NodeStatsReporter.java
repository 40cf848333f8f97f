package io.switchboard.metrics;

import io.switchboard.cluster.CborSerializable;
import io.switchboard.protocol.NodeStats;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Answers "what do you hold?" for its node: open sockets, distinct users among them, user entities and
 * how many of those are online. One per node, registered with the receptionist under {@link #KEY}, so
 * that any node can ask every member ({@code GET /v1/nodes}, the console).
 */
public final class NodeStatsReporter {
  public static final ServiceKey<Get> KEY = ServiceKey.create(Get.class, "switchboard-node-stats");

  /** Asks for the node's counts. */
  public record Get(ActorRef<Stats> replyTo) implements CborSerializable {}

  /** The answer. */
  public record Stats(NodeStats.Node node) implements CborSerializable {}

  private NodeStatsReporter() {}

  public static Behavior<Get> create(String node, ConnectionCounts registry) {
    return Behaviors.setup(
        context -> {
          context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
          SwitchboardMetrics metrics = SwitchboardMetrics.get(context.getSystem());
          return Behaviors.receiveMessage(
              get -> {
                get.replyTo()
                    .tell(
                        new Stats(
                            new NodeStats.Node(
                                node,
                                registry.size(),
                                registry.users(),
                                metrics.entities.get(),
                                metrics.onlineUsers.get())));
                return Behaviors.same();
              });
        });
  }
}
