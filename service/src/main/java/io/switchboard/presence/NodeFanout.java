package io.switchboard.presence;

import io.switchboard.cluster.CborSerializable;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.cluster.SendPathSerializable;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * This node's end of a user's fan-out: a user's entity on another node sends one message here for all
 * the user's connections on this node, instead of one per connection, and this actor hands it to each.
 * On three nodes a cross-node message costs far more than a local one (Artery's stages and a wake-up
 * of each thread pool on the way), and a send to a user with two devices on one node was two of them.
 *
 * <p>Order: the entity sends everything it sends to connections on this node (messages and closes)
 * through this one actor, so each connection gets them in the order the entity sent them; connections on
 * the entity's own node it tells directly. Registering stays direct: its order against sends does not
 * matter.
 *
 * <p>A connection that stopped in the meantime is a dead letter, as a direct message to it would be.
 */
public final class NodeFanout implements Extension {
  public interface Command {}

  /** Hand {@code message} to each of {@code connections} (all on this node). */
  public record Deliver(OutboundMessage message, List<ActorRef<ToConnection>> connections)
      implements Command, SendPathSerializable {}

  /** Close each of {@code connections} (all on this node) with {@code code}. */
  public record Close(int code, String reason, List<ActorRef<ToConnection>> connections)
      implements Command, CborSerializable {}

  private static final ExtensionId<NodeFanout> ID =
      new ExtensionId<>() {
        @Override
        public NodeFanout createExtension(ActorSystem<?> system) {
          return new NodeFanout(
              system.systemActorOf(behavior(), "connection-fanout", Props.empty()));
        }
      };

  /** This node's fan-out, started on first use. */
  public static NodeFanout get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private final ActorRef<Command> ref;

  private NodeFanout(ActorRef<Command> ref) {
    this.ref = ref;
  }

  /** Where an entity on another node sends what is for this node's connections. */
  public ActorRef<Command> ref() {
    return ref;
  }

  private static Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(
            Deliver.class,
            deliver -> {
              ToConnection.Deliver each = new ToConnection.Deliver(deliver.message());
              deliver.connections().forEach(connection -> connection.tell(each));
              return Behaviors.same();
            })
        .onMessage(
            Close.class,
            close -> {
              ToConnection.Close each = new ToConnection.Close(close.code(), close.reason());
              close.connections().forEach(connection -> connection.tell(each));
              return Behaviors.same();
            })
        .build();
  }
}
