package io.switchboard.presence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * An incarnation that found the user recorded online waits for the user's connections to rejoin it,
 * and holds the sends that arrive meanwhile (in order; a send after a held one is held too, up to
 * {@code maxHeldSends}): a send now would reach none of them. The wait ends
 *
 * <ul>
 *   <li>as soon as every connection the record names on a live node is back (a hand-off: the names
 *       are right);
 *   <li>else at the rejoin window after the first rejoin, or when the recovery settles if that is
 *       later (after a crash the names may be stale, and connections rejoin as their nodes learn of the
 *       removal and find the shard's new home, seconds apart) — but while named connections on live
 *       nodes are missing, up to {@code namedRejoinLimit} after the incarnation started. That limit is
 *       beyond the API's ask timeout, so a send is handed to all of them or not accepted (503) at all;
 *   <li>or when the recovery gives up ({@link UserPresence}'s grace-over), with the connections there are.
 * </ul>
 *
 * <p>Owns the expected connections, the held sends, the deadlines and the {@code FlushHeld} timer.
 * Released, held sends are delivered by the entity to the connections there are then.
 */
final class RejoinWait {

  private final TimerScheduler<UserPresence.Command> timers;
  private final UserPresence.Limits limits;
  /** When the incarnation started (epoch ms). */
  private final long startedAt;
  /** When the recovery settles (epoch ms); held sends wait for rejoins until then. */
  private final long recoveryDeadline;
  /** The connections the record says will rejoin and that have not yet. */
  private final Set<String> expected;
  private final List<UserPresence.SendToUser> held = new ArrayList<>();

  private RejoinWait(
      TimerScheduler<UserPresence.Command> timers,
      UserPresence.Limits limits,
      long startedAt,
      Duration recoverySettle,
      Set<String> expected) {
    this.timers = timers;
    this.limits = limits;
    this.startedAt = startedAt;
    this.recoveryDeadline = startedAt + recoverySettle.toMillis();
    this.expected = expected;
  }

  /**
   * Waits for the connections {@code recorded} names on nodes that are still members; those on the node
   * that died (the usual reason for the recovery) will not come back.
   */
  static RejoinWait forRecord(
      OnlineRecords.Entry recorded,
      Cluster cluster,
      TimerScheduler<UserPresence.Command> timers,
      UserPresence.Limits limits,
      Duration recoverySettle) {
    Set<String> expected = new HashSet<>();
    for (OnlineRecords.RecordedConnection connection : recorded.connections()) {
      if (connection.node() == null || liveMember(cluster, connection.node())) {
        expected.add(connection.id());
      }
    }
    return new RejoinWait(timers, limits, System.currentTimeMillis(), recoverySettle, expected);
  }

  /**
   * Holds {@code send} if connections are still to come ({@code noConnections}, or named ones missing)
   * or a send before it is held; false: deliver it now.
   */
  boolean hold(UserPresence.SendToUser send, boolean noConnections) {
    boolean waiting = noConnections || !expected.isEmpty();
    if ((waiting || !held.isEmpty()) && held.size() < limits.maxHeldSends()) {
      held.add(send);
      return true;
    }
    return false;
  }

  /** {@code connectionId} registered: whether every connection the record named is back now. */
  boolean rejoined(String connectionId) {
    boolean named = !expected.isEmpty();
    expected.remove(connectionId);
    boolean allBack = named && expected.isEmpty();
    if (!allBack && !timers.isTimerActive(UserPresence.FlushHeld.INSTANCE)) {
      long untilSettled = recoveryDeadline - System.currentTimeMillis();
      timers.startSingleTimer(
          UserPresence.FlushHeld.INSTANCE,
          max(limits.rejoinWindow(), Duration.ofMillis(Math.max(0, untilSettled))));
    }
    return allBack;
  }

  /**
   * The rejoin window is over: whether to wait on for named connections on live nodes that are not back
   * yet (they rejoin as their node learns where the shard went, which takes longer on a loaded node),
   * up to the named-rejoin limit after the incarnation started. False: release now.
   */
  boolean waitLonger() {
    long left = startedAt + limits.namedRejoinLimit().toMillis() - System.currentTimeMillis();
    if (!expected.isEmpty() && left > 0) {
      timers.startSingleTimer(UserPresence.FlushHeld.INSTANCE, Duration.ofMillis(Math.min(left, 500)));
      return true;
    }
    return false;
  }

  /** Ends the wait: the sends held, in the order they came. */
  List<UserPresence.SendToUser> release() {
    timers.cancel(UserPresence.FlushHeld.INSTANCE);
    List<UserPresence.SendToUser> sends = List.copyOf(held);
    held.clear();
    expected.clear();
    return sends;
  }

  /** Whether {@code node} ({@code host:port}) is a member that is up. */
  private static boolean liveMember(Cluster cluster, String node) {
    for (Member member : cluster.state().getMembers()) {
      Address address = member.address();
      String hostPort = address.host().getOrElse(() -> "") + ":" + address.port().getOrElse(() -> 0);
      boolean up =
          member.status().equals(MemberStatus.up()) || member.status().equals(MemberStatus.weaklyUp());
      if (up && node.equals(hostPort)) {
        return true;
      }
    }
    return false;
  }

  static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}
