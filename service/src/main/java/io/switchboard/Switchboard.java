package io.switchboard;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.auth.DevTokens;
import io.switchboard.config.SwitchboardSettings;
import io.switchboard.handler.SocketHandler;
import io.switchboard.messaging.ClusterInfo;
import io.switchboard.messaging.Messaging;
import io.switchboard.messaging.Recipients;
import io.switchboard.messaging.UserConnections;
import io.switchboard.presence.PresenceListener;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.ClusterView;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.NodeStats;
import io.switchboard.protocol.Presence;
import io.switchboard.protocol.PresenceEvent;
import java.time.Duration;
import java.util.Collection;
import java.util.ServiceLoader;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A running Switchboard node, and the in-node Java API: the same operations as the internal HTTP API
 * ({@link #send}, {@link #to}, {@link #isOnline}, {@link #presence}, {@link #closeConnections},
 * {@link #presenceListener}). Any node reaches any user: every operation goes through the user's
 * sharded {@link UserPresence} entity, wherever it lives. {@link NodeWiring} builds the node; this
 * class hands each call to the part that answers it.
 *
 * <p>{@link #close()} (or SIGTERM, through Pekko's Coordinated Shutdown) stops accepting sockets,
 * closes this node's sockets with 1001, hands its shards over and leaves the cluster.
 */
public final class Switchboard implements Messaging, UserConnections, ClusterInfo, AutoCloseable {
  private final StartedNode node;

  /** Starts a node with {@code config} (the application's config, with Switchboard's defaults below). */
  public static Switchboard start(Config config) {
    return start(config, null);
  }

  /**
   * Starts a node whose client messages go to {@code handler}; with null, to {@code HANDLER_URL} if set,
   * else to a {@link SocketHandler} found with {@link ServiceLoader}, else nowhere (each is answered
   * with an error).
   */
  public static Switchboard start(Config config, SocketHandler handler) {
    return new Switchboard(
        NodeWiring.start(
            config
                .withFallback(ConfigFactory.parseResources("switchboard-pekko.conf"))
                .withFallback(ConfigFactory.load())
                .resolve(),
            handler));
  }

  /** Starts a node from the default configuration (reference.conf, application.conf, environment). */
  public static Switchboard start() {
    return start(ConfigFactory.empty());
  }

  private Switchboard(StartedNode node) {
    this.node = node;
  }

  /**
   * Sends {@code message} to every connection of {@code userId}: a {@code String} as text, a
   * {@code byte[]} as binary, anything else as JSON. Completes with the number of connections it was
   * handed to (0 when the user is offline).
   */
  @Override
  public CompletionStage<Integer> send(String userId, Object message) {
    return node.users().send(userId, message);
  }

  /** The model's {@code to(userIds).send(message)}: up to {@value Limits#MAX_USERS_PER_REQUEST} users. */
  @Override
  public Recipients to(Collection<String> userIds) {
    return node.users().to(userIds);
  }

  /** The user's open connections, oldest first. */
  @Override
  public CompletionStage<Presence> presence(String userId) {
    return node.users().presence(userId);
  }

  @Override
  public CompletionStage<Boolean> isOnline(String userId) {
    return node.users().isOnline(userId);
  }

  /** Closes every connection of the user with 4000 and {@code reason}; completes with how many. */
  @Override
  public CompletionStage<Integer> closeConnections(String userId, String reason) {
    return node.users().closeConnections(userId, reason);
  }

  /** Adds a listener for every presence event of the cluster, as this node receives them. */
  public PresenceListener.Registration presenceListener(PresenceListener listener) {
    return node.events().add(listener);
  }

  /** The model's {@code onOnline(userId)}: called when a user's first connection opens. */
  public PresenceListener.Registration onOnline(Consumer<String> listener) {
    return node.events().add(event -> {
      if (event.kind() == PresenceEvent.Kind.online) {
        listener.accept(event.userId());
      }
    });
  }

  /** The model's {@code onOffline(userId)}: called when a user's last connection is gone. */
  public PresenceListener.Registration onOffline(Consumer<String> listener) {
    return node.events().add(event -> {
      if (event.kind() == PresenceEvent.Kind.offline) {
        listener.accept(event.userId());
      }
    });
  }

  /** Ready for traffic: a cluster member that is Up, with sharding started, and not shutting down. */
  @Override
  public boolean isReady() {
    return node.cluster().isReady();
  }

  /** The cluster's members as this node sees them, sorted by address. */
  @Override
  public ClusterView clusterView() {
    return node.cluster().clusterView();
  }

  /**
   * Every member's counts, asked through the receptionist; members that do not answer within 2 s (or
   * have not registered yet) are listed as unanswered.
   */
  @Override
  public CompletionStage<NodeStats> nodeStats() {
    return node.cluster().nodeStats();
  }

  /** This node's name in presence answers: the cluster host and port. */
  public String node() {
    return node.node();
  }

  public int wssPort() {
    return node.wssPort();
  }

  public int apiPort() {
    return node.apiPort();
  }

  /** Sockets open on this node. */
  public int connectionCount() {
    return node.registry().size();
  }

  public ActorSystem<Void> system() {
    return node.system();
  }

  /** True when the JWT secret or the API key was made up at start (a dev node). */
  public boolean usesDevSecrets() {
    return node.secrets().dev();
  }

  /** A token for {@code userId} signed with this node's JWT secret (for the dev banner and tests). */
  public String tokenFor(String userId, Duration ttl) {
    return DevTokens.sign(node.secrets().jwtSecret(), userId, ttl);
  }

  /** The first API key (for the dev banner). */
  public String apiKey() {
    return node.secrets().apiKeys().get(0);
  }

  public SwitchboardSettings settings() {
    return node.settings();
  }

  /** Runs Coordinated Shutdown (as SIGTERM does) and waits for the node to stop. */
  @Override
  public void close() {
    ActorSystem<Void> system = node.system();
    CoordinatedShutdown.get(system)
        .runAll(CoordinatedShutdown.unknownReason())
        .toCompletableFuture()
        .join();
    system.getWhenTerminated().toCompletableFuture().join();
  }
}
