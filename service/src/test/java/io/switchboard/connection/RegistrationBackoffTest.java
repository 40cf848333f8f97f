package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.connection.ConnectionActorTest.RecordingSocket;
import io.switchboard.presence.ToConnection;
import io.switchboard.presence.UserPresence;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connection's unanswered registration is re-sent less and less often (on the test kit's manual
 * clock, so no wall-clock timing): the first wait, then twice as long each time up to eight times it,
 * each up to a quarter longer; a sign that the entity restarted starts over at the first wait; an
 * answered registration is not sent again.
 */
@ExtendWith(TestKitJUnit5Extension.class)
class RegistrationBackoffTest {
  @JUnit5TestKit
  final ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(ManualTime.config()).build();

  private final ManualTime clock = ManualTime.get(testKit.system());
  private static final Duration FIRST = Duration.ofSeconds(1);

  @Test
  void unansweredRegistrationsBackOffToEightTimesTheFirstWait() {
    TestProbe<UserPresence.Command> presence = testKit.createTestProbe(UserPresence.Command.class);
    start(presence);
    presence.expectMessageClass(UserPresence.Register.class);

    clock.timePasses(Duration.ofMillis(1250)); // the first re-send is due at 1 s to 1.25 s
    presence.expectMessageClass(UserPresence.Register.class);
    // The second waits 2 s to 2.5 s from the first, which came at 1.25 s at the latest.
    clock.expectNoMessageFor(Duration.ofMillis(1500), presence);
    clock.timePasses(Duration.ofMillis(1000));
    presence.expectMessageClass(UserPresence.Register.class);

    // Then 4 s, and 8 s from then on (each plus up to a quarter): no 10 s window is without one
    // (a window may hold two; the extra one counts for the next). Without the cap the waits would be
    // 16 s and 32 s, and four windows would hold three.
    for (int window = 0; window < 4; window++) {
      clock.timePasses(Duration.ofSeconds(10));
      presence.expectMessageClass(UserPresence.Register.class);
    }
  }

  @Test
  void aRestartedEntityStartsTheWaitsOver() {
    TestProbe<UserPresence.Command> presence = testKit.createTestProbe(UserPresence.Command.class);
    ActorRef<ToConnection> connection = start(presence);
    presence.expectMessageClass(UserPresence.Register.class);
    for (int resend = 0; resend < 3; resend++) { // after the waits of 1, 2 and 4 s, the next is 8 s
      clock.timePasses(Duration.ofSeconds(5));
      presence.expectMessageClass(UserPresence.Register.class);
    }

    TestProbe<UserPresence.Command> entity = testKit.createTestProbe(UserPresence.Command.class);
    connection.tell(new ToConnection.Registered(entity.getRef()));
    entity.stop();
    UserPresence.Register again = presence.expectMessageClass(UserPresence.Register.class);
    assertTrue(again.rejoin());

    clock.timePasses(Duration.ofMillis(1250)); // the first wait again, not 8 s
    assertEquals("c1", presence.expectMessageClass(UserPresence.Register.class).connectionId());
  }

  @Test
  void anAnsweredRegistrationIsNotSentAgain() throws InterruptedException {
    TestProbe<UserPresence.Command> presence = testKit.createTestProbe(UserPresence.Command.class);
    RecordingSocket socket = new RecordingSocket(10);
    ActorRef<ToConnection> connection = start(presence, socket);
    presence.expectMessageClass(UserPresence.Register.class);
    clock.timePasses(Duration.ofMillis(1250));
    presence.expectMessageClass(UserPresence.Register.class); // a re-send is scheduled again now

    connection.tell(new ToConnection.Registered(presence.getRef()));
    // Delivered after the answer: once it is out, the answer was handled, before the clock moves.
    connection.tell(new ToConnection.Deliver(OutboundMessage.text("after")));
    assertEquals("after", socket.sent.poll(10, TimeUnit.SECONDS).text());
    clock.expectNoMessageFor(Duration.ofSeconds(30), presence);
  }

  private ActorRef<ToConnection> start(TestProbe<UserPresence.Command> presence) {
    return start(presence, new RecordingSocket(10));
  }

  private ActorRef<ToConnection> start(
      TestProbe<UserPresence.Command> presence, RecordingSocket socket) {
    return testKit.spawn(
        ConnectionActor.create("c1", "node-a", new AuthenticatedUser("alice", Map.of()),
            socket, presence.getRef(), FIRST, new ConnectionRegistry(),
            ConnectionActorTest.NO_HANDLER));
  }
}
