package io.switchboard.connection;

import io.switchboard.metrics.ConnectionCounts;
import io.switchboard.presence.ToConnection;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * This node's live connection actors, for what concerns the node as a whole: counting them, and closing
 * them all when the node shuts down.
 */
public final class ConnectionRegistry implements ConnectionCounts {
  private final ConcurrentHashMap<String, Entry> connections = new ConcurrentHashMap<>();
  private volatile CompletableFuture<Void> drained;

  /** A live connection and its user's id (null for an anonymous one). */
  private record Entry(ActorRef<ToConnection> connection, String userId) {}

  void add(String connectionId, ActorRef<ToConnection> connection, String userId) {
    connections.put(connectionId, new Entry(connection, userId));
  }

  void remove(String connectionId, ActorRef<ToConnection> connection) {
    connections.computeIfPresent(
        connectionId, (id, entry) -> entry.connection().equals(connection) ? null : entry);
    CompletableFuture<Void> waiting = drained;
    if (waiting != null && connections.isEmpty()) {
      waiting.complete(null);
    }
  }

  @Override
  public int size() {
    return connections.size();
  }

  /** The distinct authenticated users with a connection here (counted when asked: O(connections)). */
  @Override
  public int users() {
    Set<String> users = new HashSet<>();
    for (Entry entry : connections.values()) {
      if (entry.userId() != null) {
        users.add(entry.userId());
      }
    }
    return users.size();
  }

  /**
   * Tells every connection to close with {@code code}; completes when all of them have stopped, or
   * after {@code timeout}, whichever is first.
   */
  public CompletableFuture<Void> closeAll(int code, String reason, Duration timeout) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    drained = done;
    connections.values().forEach(e -> e.connection().tell(new ToConnection.Close(code, reason)));
    if (connections.isEmpty()) {
      done.complete(null);
    }
    return done.completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
