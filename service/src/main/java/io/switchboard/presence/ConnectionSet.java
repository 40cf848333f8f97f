package io.switchboard.presence;

import io.switchboard.cluster.OutboundMessage;
import io.switchboard.protocol.CloseCodes;
import io.switchboard.protocol.ConnectionInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The open connections of one user, as their {@link UserPresence} entity holds them: oldest first, each
 * watched while it is held (a stop comes back as {@link UserPresence.ConnectionStopped}), at most
 * {@code maxConnections} of them, and reached directly on this node or with one batch per other node
 * through that node's {@link NodeFanout}. Remote connections reported stopped are asked first, by the
 * {@link StoppedConnectionCheck} this set keeps up to date.
 */
final class ConnectionSet {

  /** How a registration was taken. */
  enum Admission {
    /** Beyond the user's maximum: the connection was told to close (4029). */
    REFUSED,
    /** A connection the set did not hold. */
    ADDED,
    /** A connection already held (again, or with a new actor under the same id). */
    KNOWN
  }

  /** {@code fanout}: the fan-out of the connection's node when that is another node, else null. */
  private record Connection(
      String id,
      String node,
      long openedAt,
      ActorRef<ToConnection> ref,
      ActorRef<NodeFanout.Command> fanout) {}

  private final ActorContext<UserPresence.Command> context;
  private final StoppedConnectionCheck check;
  /** Most connections of the user; a new one beyond it is closed with 4029 (rejoins are never refused). */
  private final int maxConnections;
  private final Map<String, Connection> connections = new LinkedHashMap<>();

  ConnectionSet(
      ActorContext<UserPresence.Command> context, StoppedConnectionCheck check, int maxConnections) {
    this.context = context;
    this.check = check;
    this.maxConnections = maxConnections;
  }

  boolean isEmpty() {
    return connections.isEmpty();
  }

  int size() {
    return connections.size();
  }

  /** Takes a registration (a new connection, a repeated one, or the answer to a check). */
  Admission register(UserPresence.Register register) {
    String id = register.connectionId();
    Connection previous = connections.get(id);
    if (previous == null && !register.rejoin() && connections.size() >= maxConnections) {
      // The newest is refused: the user's open devices keep working (as Centrifugo's per-user limit).
      register.connection().tell(new ToConnection.Close(
          CloseCodes.TOO_MANY_CONNECTIONS, "too many connections for this user (" + maxConnections + ")"));
      return Admission.REFUSED;
    }
    boolean checked = check.answered(id);
    if (checked && previous != null && previous.ref().equals(register.connection())) {
      // It is still there: the stop was not real.
      check.rewatchLater(id, register.connection());
    } else if (previous == null || !previous.ref().equals(register.connection())) {
      if (previous != null) {
        context.unwatch(previous.ref());
        check.cancelRewatch(id);
      }
      connections.put(
          id,
          new Connection(
              id,
              // One string per node, not one per connection that registered from another node.
              register.node().intern(),
              register.openedAt(),
              register.connection(),
              register.connection().path().address().hasLocalScope() ? null : register.fanout()));
      context.watchWith(
          register.connection(), new UserPresence.ConnectionStopped(id, register.connection()));
      return previous == null ? Admission.ADDED : Admission.KNOWN;
    }
    return Admission.KNOWN;
  }

  /** Removes a connection; {@code ref} non-null: only if it is still that actor. Whether it was held. */
  boolean remove(String connectionId, ActorRef<ToConnection> ref) {
    Connection connection = connections.get(connectionId);
    if (connection == null || (ref != null && !connection.ref().equals(ref))) {
      return false;
    }
    check.forget(connectionId);
    connections.remove(connectionId);
    context.unwatch(connection.ref());
    return true;
  }

  /**
   * Pekko reports a watched connection stopped. One on this node is removed (answer: true); one on
   * another node may not be gone (see {@link StoppedConnectionCheck}) and is asked (answer: false).
   */
  boolean stopped(UserPresence.ConnectionStopped stopped) {
    Connection connection = connections.get(stopped.connectionId());
    if (connection == null || !connection.ref().equals(stopped.connection())) {
      return false;
    }
    if (stopped.connection().path().address().hasLocalScope()) {
      return remove(stopped.connectionId(), stopped.connection());
    }
    check.start(stopped.connectionId(), stopped.connection());
    return false;
  }

  /** Watches again a connection that answered its check, if it is still held and not asked again. */
  void rewatch(UserPresence.Rewatch rewatch) {
    Connection connection = connections.get(rewatch.connectionId());
    if (connection != null
        && connection.ref().equals(rewatch.connection())
        && !check.isChecking(rewatch.connectionId())) {
      context.watchWith(
          connection.ref(), new UserPresence.ConnectionStopped(rewatch.connectionId(), connection.ref()));
    }
  }

  /** Hands {@code message} to every connection; answers how many. */
  int deliver(OutboundMessage message) {
    tellAll(new ToConnection.Deliver(message), refs -> new NodeFanout.Deliver(message, refs));
    return connections.size();
  }

  /** Tells every connection to close; answers how many. */
  int close(int code, String reason) {
    tellAll(new ToConnection.Close(code, reason), refs -> new NodeFanout.Close(code, reason, refs));
    return connections.size();
  }

  /**
   * Tells every connection {@code command}: those on this node directly, those on another node with one
   * {@code batch} to that node's {@link NodeFanout}. A connection is always reached the same way, so
   * what the entity tells it arrives in order.
   */
  private void tellAll(
      ToConnection command, Function<List<ActorRef<ToConnection>>, NodeFanout.Command> batch) {
    Map<ActorRef<NodeFanout.Command>, List<ActorRef<ToConnection>>> byNode = null;
    for (Connection connection : connections.values()) {
      if (connection.fanout() == null) {
        connection.ref().tell(command);
      } else {
        if (byNode == null) {
          byNode = new LinkedHashMap<>();
        }
        byNode.computeIfAbsent(connection.fanout(), node -> new ArrayList<>(2)).add(connection.ref());
      }
    }
    if (byNode != null) {
      byNode.forEach((fanout, refs) -> fanout.tell(batch.apply(refs)));
    }
  }

  /** The connections as the presence answer lists them, oldest first. */
  List<ConnectionInfo> infos() {
    List<ConnectionInfo> infos = new ArrayList<>(connections.size());
    for (Connection c : connections.values()) {
      infos.add(new ConnectionInfo(c.id(), c.node(), Instant.ofEpochMilli(c.openedAt()).toString()));
    }
    return infos;
  }

  /** The connections as the online record names them (with their nodes). */
  List<OnlineRecords.RecordedConnection> recorded() {
    return connections.values().stream()
        .map(c -> new OnlineRecords.RecordedConnection(c.id(), c.node()))
        .toList();
  }
}
