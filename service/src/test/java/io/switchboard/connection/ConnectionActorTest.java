package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.presence.ToConnection;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.CloseCodes;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link ConnectionActor} against a socket that records what it is asked to do. */
@ExtendWith(TestKitJUnit5Extension.class)
class ConnectionActorTest {
  @JUnit5TestKit final ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  private static final AuthenticatedUser ALICE = new AuthenticatedUser("alice", Map.of());
  private final ConnectionRegistry registry = new ConnectionRegistry();

  /** The transport seam of a connection: records sends and the close, with a bounded buffer. */
  public static final class RecordingSocket implements Socket {
    final BlockingQueue<OutboundMessage> sent = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closedWith = new CompletableFuture<>();
    private final int capacity;

    public RecordingSocket(int capacity) {
      this.capacity = capacity;
    }

    @Override
    public boolean send(OutboundMessage message) {
      if (closedWith.isDone() || sent.size() >= capacity) {
        return false;
      }
      sent.add(message);
      return true;
    }

    @Override
    public void close(int code, String reason) {
      closedWith.complete(code);
    }

    final java.util.concurrent.atomic.AtomicBoolean paused = new java.util.concurrent.atomic.AtomicBoolean();
    final java.util.concurrent.atomic.AtomicInteger pauses = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public void pauseReading() {
      paused.set(true);
      pauses.incrementAndGet();
    }

    @Override
    public void resumeReading() {
      paused.set(false);
    }

    public OutboundMessage next() throws InterruptedException {
      OutboundMessage message = sent.poll(10, TimeUnit.SECONDS);
      if (message == null) {
        throw new AssertionError("nothing was sent within 10 s");
      }
      return message;
    }

    public int awaitClose() {
      return closedWith.orTimeout(10, TimeUnit.SECONDS).join();
    }
  }

  /** No handler: client messages are answered with an error. */
  static final Handling NO_HANDLER =
      new Handling(null, io.switchboard.handler.DataType.JSON, Duration.ofSeconds(10), 16, 256, 0, 1, null, null);

  private ActorRef<ToConnection> start(
      String id, AuthenticatedUser user, RecordingSocket socket,
      TestProbe<UserPresence.Command> presence, Duration retry) {
    return testKit.spawn(
        ConnectionActor.create(id, "node-a", user, socket,
            presence == null ? null : presence.getRef(), retry, registry, NO_HANDLER));
  }

  @Test
  void registersWithTheUsersEntityOnStartAndUnregistersWhenTheSocketCloses() {
    TestProbe<UserPresence.Command> presence = testKit.createTestProbe(UserPresence.Command.class);
    RecordingSocket socket = new RecordingSocket(100);
    ActorRef<ToConnection> connection =
        start("c1", ALICE, socket, presence, Duration.ofMinutes(1));

    UserPresence.Register register = presence.expectMessageClass(UserPresence.Register.class);
    assertEquals("c1", register.connectionId());
    assertEquals("node-a", register.node());
    assertEquals(connection, register.connection());
    assertFalse(register.rejoin());
    assertEquals(1, registry.size());

    connection.tell(ConnectionActor.SocketClosed.INSTANCE);
    assertEquals(new UserPresence.Unregister("c1"), presence.expectMessageClass(UserPresence.Unregister.class));
    presence.expectTerminated(connection);
    assertEquals(0, registry.size());
  }

  @Test
  void resendsItsRegistrationUntilTheEntityAcknowledgesIt() throws Exception {
    java.util.concurrent.atomic.AtomicInteger registrations = new java.util.concurrent.atomic.AtomicInteger();
    ActorRef<UserPresence.Command> counting =
        testKit.spawn(
            org.apache.pekko.actor.typed.javadsl.Behaviors.receiveMessage(
                m -> {
                  if (m instanceof UserPresence.Register) {
                    registrations.incrementAndGet();
                  }
                  return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
                }));
    RecordingSocket socket = new RecordingSocket(10);
    ActorRef<ToConnection> connection =
        testKit.spawn(ConnectionActor.create("c1", "node-a", ALICE, socket, counting,
            Duration.ofMillis(50), registry, NO_HANDLER));
    TestProbe<Void> waiter = testKit.createTestProbe();
    waiter.awaitAssert(() -> {
      assertTrue(registrations.get() >= 3, "registration is re-sent while unacknowledged");
      return null;
    });

    connection.tell(new ToConnection.Registered(testKit.createTestProbe(UserPresence.Command.class).getRef()));
    connection.tell(new ToConnection.Deliver(OutboundMessage.text("sync")));
    socket.next(); // the acknowledgement has been processed
    int afterAck = registrations.get();
    waiter.expectNoMessage(Duration.ofMillis(500));
    assertEquals(afterAck, registrations.get(), "no re-sends after the acknowledgement");
  }

  @Test
  void registersAgainAsARejoinWhenTheEntityStops() {
    TestProbe<UserPresence.Command> presence = testKit.createTestProbe(UserPresence.Command.class);
    ActorRef<ToConnection> connection =
        start("c1", ALICE, new RecordingSocket(10), presence, Duration.ofMinutes(1));
    assertFalse(presence.expectMessageClass(UserPresence.Register.class).rejoin());

    TestProbe<UserPresence.Command> entity = testKit.createTestProbe(UserPresence.Command.class);
    connection.tell(new ToConnection.Registered(entity.getRef()));
    entity.stop();

    UserPresence.Register again = presence.expectMessageClass(UserPresence.Register.class);
    assertTrue(again.rejoin());
    assertEquals("c1", again.connectionId());
  }

  @Test
  void deliveredMessagesGoToTheSocketInOrder() throws Exception {
    RecordingSocket socket = new RecordingSocket(100);
    ActorRef<ToConnection> connection =
        start("c1", ALICE, socket, testKit.createTestProbe(UserPresence.Command.class),
            Duration.ofMinutes(1));
    for (int i = 0; i < 20; i++) {
      connection.tell(new ToConnection.Deliver(OutboundMessage.text("m" + i)));
    }
    for (int i = 0; i < 20; i++) {
      assertEquals("m" + i, socket.next().text());
    }
  }

  @Test
  void aClientThatDoesNotReadIsClosedWith1013InsteadOfQueueingMore() {
    TestProbe<UserPresence.Command> presence = testKit.createTestProbe(UserPresence.Command.class);
    RecordingSocket socket = new RecordingSocket(3);
    ActorRef<ToConnection> connection =
        start("c1", ALICE, socket, presence, Duration.ofMinutes(1));
    presence.expectMessageClass(UserPresence.Register.class);
    for (int i = 0; i < 4; i++) {
      connection.tell(new ToConnection.Deliver(OutboundMessage.text("m" + i)));
    }
    assertEquals(CloseCodes.TRY_AGAIN_LATER, socket.awaitClose());
    presence.expectMessageClass(UserPresence.Unregister.class);
    presence.expectTerminated(connection);
  }

  @Test
  void aCloseCommandClosesTheSocketWithItsCodeAndUnregisters() {
    TestProbe<UserPresence.Command> presence = testKit.createTestProbe(UserPresence.Command.class);
    RecordingSocket socket = new RecordingSocket(3);
    ActorRef<ToConnection> connection =
        start("c1", ALICE, socket, presence, Duration.ofMinutes(1));
    presence.expectMessageClass(UserPresence.Register.class);
    connection.tell(new ToConnection.Close(CloseCodes.CLOSED_BY_APP, "logout"));
    assertEquals(CloseCodes.CLOSED_BY_APP, socket.awaitClose());
    presence.expectMessageClass(UserPresence.Unregister.class);
  }

  @Test
  void anAnonymousConnectionHasNoPresenceButReceivesMessages() throws Exception {
    RecordingSocket socket = new RecordingSocket(10);
    ActorRef<ToConnection> connection =
        start("anon", null, socket, null, Duration.ofMinutes(1));
    connection.tell(new ToConnection.Deliver(OutboundMessage.binary(new byte[] {7})));
    assertEquals(OutboundMessage.Kind.BINARY, socket.next().kind());
    connection.tell(ConnectionActor.SocketClosed.INSTANCE);
    testKit.createTestProbe().expectTerminated(connection);
  }

  @Test
  void closingAllConnectionsOfTheNodeWaitsUntilTheyHaveStopped() {
    RecordingSocket one = new RecordingSocket(10);
    RecordingSocket two = new RecordingSocket(10);
    start("c1", ALICE, one, testKit.createTestProbe(UserPresence.Command.class), Duration.ofMinutes(1));
    start("c2", ALICE, two, testKit.createTestProbe(UserPresence.Command.class), Duration.ofMinutes(1));
    // (spawning is asynchronous: the actors add themselves to the registry when they start)
    io.switchboard.support.TestCluster.await("both connections started", () -> registry.size() == 2);
    registry.closeAll(CloseCodes.GOING_AWAY, "going away", Duration.ofSeconds(30)).join();
    assertEquals(0, registry.size());
    assertEquals(CloseCodes.GOING_AWAY, one.awaitClose());
    assertEquals(CloseCodes.GOING_AWAY, two.awaitClose());
  }
}
