package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.cluster.OutboundMessage;
import io.switchboard.connection.ConnectionActor;
import io.switchboard.protocol.CloseCodes;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.support.TestKitCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link UserPresence} on its own: which registrations make online and offline events, what a send
 * answers, and what a fresh incarnation does with rejoining connections.
 */
@ExtendWith(TestKitJUnit5Extension.class)
class UserPresenceTest {
  /** A one-node cluster: the entity keeps its online record in this node's OnlineRecords. */
  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder()
          .withCustomConfig(TestKitCluster.node(""))
          .build();

  private static final UserPresence.Records RECORDS =
      new UserPresence.Records(Duration.ofSeconds(5), Duration.ofMillis(300));
  private static final Duration LONG = Duration.ofMinutes(10);

  private TestProbe<PresenceEvents.Command> events;
  private TestProbe<ClusterSharding.ShardCommand> shard;
  private String user;

  @BeforeEach
  void joinAndProbes() {
    TestKitCluster.join(List.of(testKit));
    user = "user-" + UUID.randomUUID();
    events = testKit.createTestProbe(PresenceEvents.Command.class);
    shard = testKit.createTestProbe(ClusterSharding.ShardCommand.class);
  }

  private ActorRef<UserPresence.Command> entity(Duration passivateAfter) {
    return entity(Duration.ZERO, passivateAfter);
  }

  private ActorRef<UserPresence.Command> entity(Duration grace, Duration passivateAfter) {
    return testKit.spawn(
        UserPresence.create(
            user, shard.getRef(), events.getRef(), grace, passivateAfter, 3, RECORDS));
  }

  private UserPresence.Snapshot snapshot(ActorRef<UserPresence.Command> entity) {
    TestProbe<UserPresence.Snapshot> reply = testKit.createTestProbe(UserPresence.Snapshot.class);
    entity.tell(new UserPresence.GetPresence(reply.getRef()));
    return reply.receiveMessage();
  }

  private static UserPresence.Register register(
      String id, TestProbe<ToConnection> connection, boolean rejoin) {
    return new UserPresence.Register(id, "node-a", System.currentTimeMillis(), connection.getRef(),
        null, rejoin);
  }

  private PresenceEvent nextEvent() {
    PresenceEvent event =
        events.expectMessageClass(PresenceEvents.Publish.class, Duration.ofSeconds(10)).event();
    assertEquals(user, event.userId());
    return event;
  }

  private int connectionCount(ActorRef<UserPresence.Command> entity) {
    TestProbe<UserPresence.Snapshot> reply = testKit.createTestProbe(UserPresence.Snapshot.class);
    entity.tell(new UserPresence.GetPresence(reply.getRef()));
    return reply.receiveMessage().connections().size();
  }

  @Test
  void onlineIsEmittedOnFirstConnectionOnlyAndOfflineOnLastOnly() {
    ActorRef<UserPresence.Command> entity = entity(LONG);
    TestProbe<ToConnection> phone = testKit.createTestProbe(ToConnection.class);
    TestProbe<ToConnection> laptop = testKit.createTestProbe(ToConnection.class);

    entity.tell(register("c1", phone, false));
    PresenceEvent online = nextEvent();
    assertEquals(PresenceEvent.Kind.online, online.kind());
    phone.expectMessageClass(ToConnection.Registered.class);

    entity.tell(register("c2", laptop, false));
    laptop.expectMessageClass(ToConnection.Registered.class);
    entity.tell(new UserPresence.Unregister("c1"));
    assertEquals(1, connectionCount(entity));

    entity.tell(new UserPresence.Unregister("c2"));
    PresenceEvent offline = nextEvent();
    // The event after "online" is this "offline": the second device and the first's departure made none.
    assertEquals(PresenceEvent.Kind.offline, offline.kind());
    assertTrue(offline.seq() > online.seq());
    assertNotEquals(online.id(), offline.id());
    assertEquals(0, connectionCount(entity));
  }

  @Test
  void aConnectionBeyondTheUsersMaximumIsClosedWith4029AndTheOthersStay() {
    ActorRef<UserPresence.Command> entity = entity(LONG); // at most 3 connections
    List<TestProbe<ToConnection>> devices = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      TestProbe<ToConnection> device = testKit.createTestProbe(ToConnection.class);
      entity.tell(register("c" + i, device, false));
      device.expectMessageClass(ToConnection.Registered.class);
      devices.add(device);
    }
    TestProbe<ToConnection> fourth = testKit.createTestProbe(ToConnection.class);
    entity.tell(register("c3", fourth, false));
    ToConnection.Close close = fourth.expectMessageClass(ToConnection.Close.class);
    assertEquals(CloseCodes.TOO_MANY_CONNECTIONS, close.code());
    assertEquals(3, connectionCount(entity));
    // A registration repeated by a connection already in is not a new one.
    entity.tell(register("c0", devices.get(0), false));
    devices.get(0).expectMessageClass(ToConnection.Registered.class);
    // A rejoin (the entity moved) is never refused, even past the maximum.
    TestProbe<ToConnection> rejoining = testKit.createTestProbe(ToConnection.class);
    entity.tell(register("c4", rejoining, true));
    rejoining.expectMessageClass(ToConnection.Registered.class);
    // Once one goes, a new one fits again.
    entity.tell(new UserPresence.Unregister("c1"));
    entity.tell(new UserPresence.Unregister("c4"));
    TestProbe<ToConnection> later = testKit.createTestProbe(ToConnection.class);
    entity.tell(register("c5", later, false));
    later.expectMessageClass(ToConnection.Registered.class);
  }

  @Test
  void offlineIsEmittedWhenTheLastConnectionActorDiesWithoutUnregistering() {
    ActorRef<UserPresence.Command> entity = entity(LONG);
    ActorRef<ToConnection> connection =
        testKit.spawn(Behaviors.receiveMessage(m -> Behaviors.same()));
    entity.tell(new UserPresence.Register("c1", "node-a", 0, connection, null, false));
    assertEquals(PresenceEvent.Kind.online, nextEvent().kind());

    testKit.stop(connection);
    assertEquals(PresenceEvent.Kind.offline, nextEvent().kind());
    assertEquals(0, connectionCount(entity));
  }

  @Test
  void aSendReachesEveryConnectionAndAnswersHowMany() {
    ActorRef<UserPresence.Command> entity = entity(LONG);
    TestProbe<UserPresence.Delivered> reply = testKit.createTestProbe(UserPresence.Delivered.class);
    OutboundMessage message = OutboundMessage.text("hello");

    entity.tell(new UserPresence.SendToUser(message, reply.getRef()));
    assertEquals(0, reply.receiveMessage().connections());

    TestProbe<ToConnection> phone = testKit.createTestProbe(ToConnection.class);
    TestProbe<ToConnection> laptop = testKit.createTestProbe(ToConnection.class);
    entity.tell(register("c1", phone, false));
    entity.tell(register("c2", laptop, false));
    entity.tell(new UserPresence.SendToUser(message, reply.getRef()));
    assertEquals(2, reply.receiveMessage().connections());
    for (TestProbe<ToConnection> device : java.util.List.of(phone, laptop)) {
      device.expectMessageClass(ToConnection.Registered.class);
      assertEquals(new ToConnection.Deliver(message), device.receiveMessage());
    }
  }

  @Test
  void aRepeatedRegistrationIsCountedOnceAndAcknowledgedAgain() {
    ActorRef<UserPresence.Command> entity = entity(LONG);
    TestProbe<ToConnection> phone = testKit.createTestProbe(ToConnection.class);
    entity.tell(register("c1", phone, false));
    entity.tell(register("c1", phone, false));
    phone.expectMessageClass(ToConnection.Registered.class);
    phone.expectMessageClass(ToConnection.Registered.class);
    assertEquals(1, connectionCount(entity));
    entity.tell(new UserPresence.Unregister("c1"));
    assertEquals(PresenceEvent.Kind.online, nextEvent().kind());
    assertEquals(PresenceEvent.Kind.offline, nextEvent().kind());
  }

  @Test
  void aFreshIncarnationAdoptsRejoiningConnectionsWithoutAnnouncingTheUserAgain() {
    ActorRef<UserPresence.Command> first = entity(LONG);
    TestProbe<ToConnection> phone = testKit.createTestProbe(ToConnection.class);
    first.tell(register("c1", phone, false));
    PresenceEvent online = nextEvent();
    testKit.stop(first);

    ActorRef<UserPresence.Command> second = entity(LONG);
    second.tell(register("c1", phone, true));
    assertEquals(1, connectionCount(second));
    second.tell(new UserPresence.Unregister("c1"));
    // The next event is the offline of the same online period: no second "online" was emitted.
    PresenceEvent offline = nextEvent();
    assertEquals(PresenceEvent.Kind.offline, offline.kind());
    assertTrue(offline.seq() > online.seq(), "seq keeps increasing across incarnations");
  }

  @Test
  void closeConnectionsTellsEveryConnectionToCloseAndAnswersHowMany() {
    ActorRef<UserPresence.Command> entity = entity(LONG);
    TestProbe<ToConnection> phone = testKit.createTestProbe(ToConnection.class);
    TestProbe<ToConnection> laptop = testKit.createTestProbe(ToConnection.class);
    entity.tell(register("c1", phone, false));
    entity.tell(register("c2", laptop, false));
    TestProbe<UserPresence.Closed> reply = testKit.createTestProbe(UserPresence.Closed.class);
    entity.tell(new UserPresence.CloseConnections(4000, "bye", reply.getRef()));
    assertEquals(2, reply.receiveMessage().connections());
    for (TestProbe<ToConnection> device : java.util.List.of(phone, laptop)) {
      device.expectMessageClass(ToConnection.Registered.class);
      assertEquals(new ToConnection.Close(4000, "bye"), device.receiveMessage());
    }
  }

  @Test
  void anEntityWithNoConnectionsAsksItsShardToPassivateIt() {
    ActorRef<UserPresence.Command> entity = entity(Duration.ofMillis(200));
    ClusterSharding.ShardCommand command = shard.receiveMessage(Duration.ofSeconds(10));
    assertEquals(new ClusterSharding.Passivate<>(entity), command);
  }

  @Test
  void anEntityHoldingConnectionsIsNotPassivated() {
    ActorRef<UserPresence.Command> entity = entity(Duration.ofMillis(200));
    TestProbe<ToConnection> phone = testKit.createTestProbe(ToConnection.class);
    entity.tell(register("c1", phone, false));
    phone.expectMessageClass(ToConnection.Registered.class);
    shard.expectNoMessage(Duration.ofMillis(600));
    entity.tell(new UserPresence.Unregister("c1"));
    assertEquals(new ClusterSharding.Passivate<>(entity), shard.receiveMessage(Duration.ofSeconds(10)));
  }

  @Test
  void aReconnectWithinTheGraceMakesNoEventsAndTheUserStaysOnline() {
    ActorRef<UserPresence.Command> entity = entity(Duration.ofMinutes(10), LONG);
    TestProbe<ToConnection> first = testKit.createTestProbe(ToConnection.class);
    TestProbe<ToConnection> second = testKit.createTestProbe(ToConnection.class);
    entity.tell(register("c1", first, false));
    assertEquals(PresenceEvent.Kind.online, nextEvent().kind());
    entity.tell(new UserPresence.Unregister("c1"));
    UserPresence.Snapshot during = snapshot(entity);
    assertTrue(during.online(), "online during the grace");
    assertTrue(during.inGrace());
    assertTrue(during.connections().isEmpty());

    entity.tell(register("c2", second, false));
    UserPresence.Snapshot back = snapshot(entity);
    assertTrue(back.online());
    assertTrue(!back.inGrace());
    events.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aReconnectAfterTheGraceGivesOfflineThenOnline() {
    ActorRef<UserPresence.Command> entity = entity(Duration.ofMillis(300), LONG);
    TestProbe<ToConnection> first = testKit.createTestProbe(ToConnection.class);
    entity.tell(register("c1", first, false));
    PresenceEvent online = nextEvent();
    entity.tell(new UserPresence.Unregister("c1"));
    PresenceEvent offline = nextEvent();
    assertEquals(PresenceEvent.Kind.offline, offline.kind());
    assertTrue(!snapshot(entity).online());
    entity.tell(register("c2", testKit.createTestProbe(ToConnection.class), false));
    PresenceEvent again = nextEvent();
    assertEquals(PresenceEvent.Kind.online, again.kind());
    assertTrue(online.seq() < offline.seq() && offline.seq() < again.seq());
  }

  @Test
  void anIncarnationThatFindsTheUserOnlineAndNoConnectionRejoiningEmitsOneOffline() {
    ActorRef<UserPresence.Command> crashed = entity(LONG);
    TestProbe<ToConnection> lost = testKit.createTestProbe(ToConnection.class);
    crashed.tell(register("c1", lost, false));
    PresenceEvent online = nextEvent();
    assertEquals(PresenceEvent.Kind.online, online.kind());
    // The entity's memory is gone (its node died with the user's only connection).
    testKit.stop(crashed);

    ActorRef<UserPresence.Command> recovered = entity(LONG);
    recovered.tell(new UserPresence.Wake());
    assertTrue(snapshot(recovered).online(), "online while the connections may still rejoin");
    PresenceEvent offline = nextEvent();
    assertEquals(PresenceEvent.Kind.offline, offline.kind());
    assertEquals(online.id() + ":offline", offline.id());
    assertTrue(offline.seq() > online.seq());

    // The record is gone with the offline: a later incarnation has nothing to recover.
    testKit.stop(recovered);
    ActorRef<UserPresence.Command> later = entity(LONG);
    assertTrue(!snapshot(later).online());
    events.expectNoMessage(Duration.ofMillis(600));
  }

  @Test
  void aSendToARecoveringEntityWaitsForTheRejoiningConnections() {
    ActorRef<UserPresence.Command> moved = entity(LONG);
    TestProbe<ToConnection> device = testKit.createTestProbe(ToConnection.class);
    moved.tell(register("c1", device, false));
    assertEquals(PresenceEvent.Kind.online, nextEvent().kind());
    device.expectMessageClass(ToConnection.Registered.class);
    testKit.stop(moved);

    ActorRef<UserPresence.Command> recovered = entity(LONG);
    TestProbe<UserPresence.Delivered> reply = testKit.createTestProbe(UserPresence.Delivered.class);
    OutboundMessage first = OutboundMessage.text("first");
    OutboundMessage second = OutboundMessage.text("second");
    recovered.tell(new UserPresence.SendToUser(first, reply.getRef()));
    recovered.tell(register("c1", device, true));
    recovered.tell(new UserPresence.SendToUser(second, reply.getRef()));
    device.expectMessageClass(ToConnection.Registered.class);
    assertEquals(new ToConnection.Deliver(first), device.receiveMessage());
    assertEquals(new ToConnection.Deliver(second), device.receiveMessage());
    assertEquals(1, reply.receiveMessage().connections());
    assertEquals(1, reply.receiveMessage().connections());
  }

  @Test
  void afterACrashHeldSendsWaitForEveryRecordedConnectionOnALiveNodeAndNoneOnAGoneOne() {
    Address self = Cluster.get(testKit.system()).selfMember().address();
    String live = self.host().get() + ":" + self.port().get();
    ActorRef<UserPresence.Command> crashed = entity(LONG);
    TestProbe<ToConnection> phone = testKit.createTestProbe(ToConnection.class);
    TestProbe<ToConnection> laptop = testKit.createTestProbe(ToConnection.class);
    TestProbe<ToConnection> tablet = testKit.createTestProbe(ToConnection.class);
    crashed.tell(new UserPresence.Register("phone", live, 0, phone.getRef(), null, false));
    assertEquals(PresenceEvent.Kind.online, nextEvent().kind());
    crashed.tell(new UserPresence.Register("laptop", live, 0, laptop.getRef(), null, false));
    crashed.tell(
        new UserPresence.Register("tablet", "gone-node:25520", 0, tablet.getRef(), null, false));
    for (TestProbe<ToConnection> device : List.of(phone, laptop, tablet)) {
      device.expectMessageClass(ToConnection.Registered.class);
    }
    // Every connection that joins is written into the record, with its node.
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(
          List.of("laptop@" + live, "phone@" + live, "tablet@gone-node:25520"),
          recordedConnections().stream().sorted().toList());
      return null;
    });
    testKit.stop(crashed);

    ActorRef<UserPresence.Command> recovered = entity(LONG);
    TestProbe<UserPresence.Delivered> reply = testKit.createTestProbe(UserPresence.Delivered.class);
    OutboundMessage message = OutboundMessage.text("after the crash");
    recovered.tell(new UserPresence.SendToUser(message, reply.getRef()));
    recovered.tell(new UserPresence.Register("phone", live, 0, phone.getRef(), null, true));
    phone.expectMessageClass(ToConnection.Registered.class);
    // The new incarnation names the connections that rejoin it (the first too), for the next crash.
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(2), () -> {
      assertEquals(List.of("phone@" + live), recordedConnections());
      return null;
    });
    // Past the settle (300 ms) and the rejoin window (2 s): still held for the laptop, which is recorded
    // on a live node; the tablet's node is gone, so it is not waited for.
    phone.expectNoMessage(Duration.ofSeconds(3));
    reply.expectNoMessage(Duration.ZERO);
    recovered.tell(new UserPresence.Register("laptop", live, 0, laptop.getRef(), null, true));
    assertEquals(new ToConnection.Deliver(message), phone.receiveMessage());
    laptop.expectMessageClass(ToConnection.Registered.class);
    assertEquals(new ToConnection.Deliver(message), laptop.receiveMessage());
    assertEquals(2, reply.receiveMessage().connections());
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(
          List.of("laptop@" + live, "phone@" + live), recordedConnections().stream().sorted().toList());
      return null;
    });
  }

  /** The connection entries of this user's online record, as the local replica has them. */
  private List<String> recordedConnections() {
    TestProbe<Optional<OnlineRecords.Entry>> answer = testKit.createTestProbe();
    OnlineRecords.get(testKit.system()).ref().tell(new OnlineRecords.Get<>(
        user, false, Duration.ofSeconds(5), answer.getRef(), Optional::ofNullable));
    return answer.receiveMessage().map(OnlineRecords.Entry::connections).orElse(List.of()).stream()
        .map(connection -> connection.id() + "@" + connection.node())
        .toList();
  }

  @Test
  void aRejoinThatComesAfterTheRecoveryGaveUpIsAnnouncedAsANewOnline() {
    ActorRef<UserPresence.Command> moved = entity(LONG);
    TestProbe<ToConnection> device = testKit.createTestProbe(ToConnection.class);
    moved.tell(register("c1", device, false));
    assertEquals(PresenceEvent.Kind.online, nextEvent().kind());
    testKit.stop(moved);

    ActorRef<UserPresence.Command> recovered = entity(LONG);
    recovered.tell(new UserPresence.Wake());
    assertEquals(PresenceEvent.Kind.offline, nextEvent().kind());
    recovered.tell(register("c1", device, true));
    // Late, but alternation holds: the user is online again, and the app is told so.
    assertEquals(PresenceEvent.Kind.online, nextEvent().kind());
    assertTrue(snapshot(recovered).online());
  }
}
