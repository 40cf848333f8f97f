package io.switchboard.presence;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Whether a remote connection Pekko reports stopped is really gone. A watch on an actor at the
 * host:port of a member that was removed is answered at once with "terminated" while the node there
 * now (restarted, a new incarnation) is not yet Up in this node's view, though the connection is open
 * and registered. So the connection is asked ({@link ToConnection.ConfirmRegistration}); it answers by
 * registering again, and only one that does not answer within {@code interval} leaves presence
 * ({@link UserPresence.CheckTimedOut}). One that answers is watched again {@code interval} later
 * ({@link UserPresence.Rewatch}), not at once, or a node that is still not Up here would report it
 * stopped again right away.
 *
 * <p>Owns the set of connections being asked and the two timers per connection.
 */
final class StoppedConnectionCheck {

  private final TimerScheduler<UserPresence.Command> timers;
  private final Duration interval;
  /** Remote connections reported stopped and asked whether they are still there. */
  private final Set<String> checking = new HashSet<>();

  StoppedConnectionCheck(TimerScheduler<UserPresence.Command> timers, Duration interval) {
    this.timers = timers;
    this.interval = interval;
  }

  /** Asks {@code connection} to register again; it leaves presence unless it does in time. */
  void start(String connectionId, ActorRef<ToConnection> connection) {
    checking.add(connectionId);
    connection.tell(new ToConnection.ConfirmRegistration());
    timers.startSingleTimer(
        checkKey(connectionId), new UserPresence.CheckTimedOut(connectionId, connection), interval);
  }

  /** A registration from {@code connectionId} arrived: whether it answers a check (which then ends). */
  boolean answered(String connectionId) {
    if (checking.remove(connectionId)) {
      timers.cancel(checkKey(connectionId));
      return true;
    }
    return false;
  }

  boolean isChecking(String connectionId) {
    return checking.contains(connectionId);
  }

  /** Watch {@code connection}, which answered its check, again a little later. */
  void rewatchLater(String connectionId, ActorRef<ToConnection> connection) {
    timers.startSingleTimer(
        rewatchKey(connectionId), new UserPresence.Rewatch(connectionId, connection), interval);
  }

  void cancelRewatch(String connectionId) {
    timers.cancel(rewatchKey(connectionId));
  }

  /** The connection left presence: nothing of it is pending any more. */
  void forget(String connectionId) {
    answered(connectionId);
    cancelRewatch(connectionId);
  }

  private static String checkKey(String connectionId) {
    return "check-" + connectionId;
  }

  private static String rewatchKey(String connectionId) {
    return "rewatch-" + connectionId;
  }
}
