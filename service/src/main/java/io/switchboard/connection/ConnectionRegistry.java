package io.switchboard.connection;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * This node's live connection actors, for what concerns the node as a whole: counting them, and closing
 * them all when the node shuts down.
 */
public final class ConnectionRegistry {
  private final ConcurrentHashMap<String, ActorRef<ConnectionActor.Command>> connections =
      new ConcurrentHashMap<>();
  private volatile CompletableFuture<Void> drained;

  void add(String connectionId, ActorRef<ConnectionActor.Command> connection) {
    connections.put(connectionId, connection);
  }

  void remove(String connectionId, ActorRef<ConnectionActor.Command> connection) {
    connections.remove(connectionId, connection);
    CompletableFuture<Void> waiting = drained;
    if (waiting != null && connections.isEmpty()) {
      waiting.complete(null);
    }
  }

  public int size() {
    return connections.size();
  }

  /**
   * Tells every connection to close with {@code code}; completes when all of them have stopped, or
   * after {@code timeout}, whichever is first.
   */
  public CompletableFuture<Void> closeAll(int code, String reason, Duration timeout) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    drained = done;
    connections.values().forEach(c -> c.tell(new ConnectionActor.Close(code, reason)));
    if (connections.isEmpty()) {
      done.complete(null);
    }
    return done.completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
