package io.switchboard.connection;

/**
 * The client-facing WebSocket listener ({@code wss://HOST:PORT/PATH}): Netty ({@link WebSocketServer},
 * the default) or Pekko HTTP ({@link PekkoWebSocketServer}), chosen by {@code switchboard.wss.edge}.
 * Both admit upgrades by the same {@link Admission} and feed the same {@link ConnectionActor}s.
 */
public interface WebSocketEdge extends AutoCloseable {

  /** Binds the listener; returns the bound port. */
  int start() throws Exception;

  /** Stops accepting new sockets; open ones stay. */
  void stopAccepting();

  /** Stops accepting and lets go of the edge's threads; sockets still open are cut. */
  @Override
  void close();
}
