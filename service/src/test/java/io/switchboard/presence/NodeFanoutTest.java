package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.connection.ConnectionActor;
import io.switchboard.presence.NodeFanout;
import io.switchboard.support.TestKitCluster;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A user's entity reaches the user's connections on another node with one message per node, through
 * that node's {@link NodeFanout}, and those on its own node directly; each connection gets what the
 * entity sends in order. Two nodes in this JVM: the entity on one, registrations sent from the other
 * through the network, so that the entity sees those connections as remote.
 */
class NodeFanoutTest {
  private static final Config NODE = TestKitCluster.node("");
  private static final UserPresence.Records RECORDS =
      new UserPresence.Records(Duration.ofSeconds(5), Duration.ofMillis(300));

  private ActorTestKit entityNode;
  private ActorTestKit devicesNode;
  private ActorRef<UserPresence.Command> entity;
  /** The same entity as the devices' node reaches it: what is told through it is serialized. */
  private ActorRef<UserPresence.Command> entityFromDevicesNode;

  @BeforeEach
  void twoNodesAndAnEntity() {
    entityNode = ActorTestKit.create("Fanout", NODE);
    devicesNode = ActorTestKit.create("Fanout", NODE);
    TestKitCluster.join(List.of(entityNode, devicesNode));
    entity = entityNode.spawn(UserPresence.create(
        "alice",
        entityNode.createTestProbe(ClusterSharding.ShardCommand.class).getRef(),
        entityNode.createTestProbe(PresenceEvents.Command.class).getRef(),
        Duration.ZERO,
        Duration.ofMinutes(10),
        5,
        RECORDS));
    entityFromDevicesNode =
        ActorRefResolver.get(devicesNode.system()).resolveActorRef(
            ActorRefResolver.get(entityNode.system()).toSerializationFormat(entity));
  }

  @AfterEach
  void stop() {
    devicesNode.shutdownTestKit();
    entityNode.shutdownTestKit();
  }

  @Test
  void oneMessagePerRemoteNodeCarriesASendAndACloseToAllItsConnections() {
    TestProbe<NodeFanout.Command> remoteFanout = devicesNode.createTestProbe(NodeFanout.Command.class);
    TestProbe<ToConnection> phone = devicesNode.createTestProbe(ToConnection.class);
    TestProbe<ToConnection> laptop =
        devicesNode.createTestProbe(ToConnection.class);
    TestProbe<ToConnection> desk = entityNode.createTestProbe(ToConnection.class);
    register(entityFromDevicesNode, "phone", phone, remoteFanout.getRef());
    register(entityFromDevicesNode, "laptop", laptop, remoteFanout.getRef());
    register(entity, "desk", desk, NodeFanout.get(entityNode.system()).ref());

    TestProbe<UserPresence.Delivered> delivered =
        entityNode.createTestProbe(UserPresence.Delivered.class);
    entity.tell(new UserPresence.SendToUser(OutboundMessage.text("hello"), delivered.getRef()));

    assertEquals(3, delivered.receiveMessage(Duration.ofSeconds(10)).connections());
    NodeFanout.Deliver batch =
        remoteFanout.expectMessageClass(NodeFanout.Deliver.class, Duration.ofSeconds(10));
    assertEquals(List.of(phone.getRef(), laptop.getRef()), batch.connections());
    assertEquals("hello", batch.message().text());
    assertEquals("hello", deliverText(desk), "the entity's own node is told directly");

    TestProbe<UserPresence.Closed> closed = entityNode.createTestProbe(UserPresence.Closed.class);
    entity.tell(new UserPresence.CloseConnections(4000, "signed out", closed.getRef()));

    assertEquals(3, closed.receiveMessage(Duration.ofSeconds(10)).connections());
    NodeFanout.Close close =
        remoteFanout.expectMessageClass(NodeFanout.Close.class, Duration.ofSeconds(10));
    assertEquals(List.of(phone.getRef(), laptop.getRef()), close.connections());
    assertEquals(4000, close.code());
    assertEquals(4000, desk.expectMessageClass(ToConnection.Close.class).code());
    // Nothing reached the remote connections but through their node's fan-out.
    phone.expectNoMessage(Duration.ofMillis(300));
    laptop.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void theFanoutHandsEverySendToEachConnectionInOrder() {
    ActorRef<NodeFanout.Command> fanout = NodeFanout.get(devicesNode.system()).ref();
    TestProbe<ToConnection> phone = devicesNode.createTestProbe(ToConnection.class);
    TestProbe<ToConnection> laptop =
        devicesNode.createTestProbe(ToConnection.class);
    register(entityFromDevicesNode, "phone", phone, fanout);
    register(entityFromDevicesNode, "laptop", laptop, fanout);

    TestProbe<UserPresence.Delivered> delivered =
        entityNode.createTestProbe(UserPresence.Delivered.class);
    for (int i = 0; i < 20; i++) {
      entity.tell(new UserPresence.SendToUser(OutboundMessage.text("m" + i), delivered.getRef()));
    }

    for (int i = 0; i < 20; i++) {
      assertEquals(2, delivered.receiveMessage(Duration.ofSeconds(10)).connections());
    }
    for (TestProbe<ToConnection> device : List.of(phone, laptop)) {
      for (int i = 0; i < 20; i++) {
        assertEquals("m" + i, deliverText(device));
      }
    }
  }

  /** Registers {@code connection}, told through {@code via}, and waits until the entity holds it. */
  private void register(
      ActorRef<UserPresence.Command> via,
      String id,
      TestProbe<ToConnection> connection,
      ActorRef<NodeFanout.Command> fanout) {
    via.tell(new UserPresence.Register(id, "node", 0, connection.getRef(), fanout, false));
    connection.expectMessageClass(ToConnection.Registered.class, Duration.ofSeconds(15));
  }

  private static String deliverText(TestProbe<ToConnection> connection) {
    return connection
        .expectMessageClass(ToConnection.Deliver.class, Duration.ofSeconds(10))
        .message()
        .text();
  }
}
