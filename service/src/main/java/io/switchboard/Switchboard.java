package io.switchboard;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.netty.handler.ssl.SslContext;
import io.switchboard.api.ApiRoutes;
import io.switchboard.auth.ApiKeys;
import io.switchboard.auth.DevTokens;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.config.SeedNode;
import io.switchboard.config.SwitchboardSettings;
import io.switchboard.connection.ConnectionActor;
import io.switchboard.connection.ConnectionOpener;
import io.switchboard.connection.ConnectionRegistry;
import io.switchboard.connection.Handling;
import io.switchboard.connection.PekkoWebSocketServer;
import io.switchboard.connection.WebSocketEdge;
import io.switchboard.connection.WebSocketServer;
import io.switchboard.events.WebhookDispatcher;
import io.switchboard.handler.HttpForwardingHandler;
import io.switchboard.handler.SocketHandler;
import io.switchboard.messaging.Messaging;
import io.switchboard.messaging.Recipients;
import io.switchboard.metrics.NodeStatsReporter;
import io.switchboard.metrics.SwitchboardMetrics;
import io.switchboard.presence.PresenceEventHub;
import io.switchboard.presence.PresenceListener;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.CloseCodes;
import io.switchboard.protocol.ClusterView;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.NodeStats;
import io.switchboard.protocol.Presence;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.tls.ServerTls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Switchboard node, and the in-node Java API: the same operations as the internal HTTP API
 * ({@link #send}, {@link #to}, {@link #isOnline}, {@link #presence}, {@link #closeConnections},
 * {@link #presenceListener}). Any node reaches any user: every operation goes through the user's
 * sharded {@link UserPresence} entity, wherever it lives.
 *
 * <p>{@link #close()} (or SIGTERM, through Pekko's Coordinated Shutdown) stops accepting sockets,
 * closes this node's sockets with 1001, hands its shards over and leaves the cluster.
 */
public final class Switchboard implements Messaging, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Switchboard.class);

  private final SwitchboardSettings settings;
  private final ActorSystem<Void> system;
  private final ClusterSharding sharding;
  private final PresenceEventHub hub;
  private final ConnectionRegistry registry = new ConnectionRegistry();
  private final String node;
  private final String jwtSecret;
  private final List<String> apiKeys;
  private final boolean devSecrets;
  private final WebSocketEdge wss;
  private final int wssPort;
  private final ServerBinding api;
  private final ActorRef<WebhookDispatcher.Command> webhooks;
  private volatile boolean shuttingDown;

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
        config
            .withFallback(ConfigFactory.parseResources("switchboard-pekko.conf"))
            .withFallback(ConfigFactory.load())
            .resolve(),
        handler);
  }

  /** Starts a node from the default configuration (reference.conf, application.conf, environment). */
  public static Switchboard start() {
    return start(ConfigFactory.empty());
  }

  private Switchboard(Config config, SocketHandler handler) {
    settings = SwitchboardSettings.from(config);
    node = settings.cluster().host() + ":" + settings.cluster().port();
    List<String> secrets = settings.auth().jwtSecrets();
    boolean devSecret = secrets.isEmpty();
    jwtSecret = devSecret ? DevTokens.randomSecret(32) : secrets.get(0);
    boolean devKey = settings.api().keys().isEmpty();
    apiKeys = devKey ? List.of(DevTokens.randomSecret(24)) : settings.api().keys();
    devSecrets = devSecret || devKey;
    TokenVerifier verifier =
        new TokenVerifier(
            devSecret ? List.of(jwtSecret) : secrets,
            settings.auth().tokenOptions(),
            settings.auth().clockSkew());
    Handling handling = handling(settings.handler(), handler, verifier);
    SslContext tls = ServerTls.context(settings.tls());

    hub = new PresenceEventHub();
    CompletableFuture<Guardian.Started> started = new CompletableFuture<>();
    system =
        ActorSystem.create(
            Guardian.create(hub, settings, started),
            settings.clusterName(),
            pekkoConfig(settings).withFallback(config));
    try {
      webhooks = started.get(30, TimeUnit.SECONDS).webhooks();
      sharding = ClusterSharding.get(system);
      SwitchboardMetrics metrics = SwitchboardMetrics.get(system);
      metrics.bindCluster(Cluster.get(system));
      metrics.gauge("switchboard.connections", "open client connections on this node", registry,
          ConnectionRegistry::size);
      system.systemActorOf(NodeStatsReporter.create(node, registry), "node-stats", Props.empty());
      join();

      ConnectionOpener opener =
          (connectionId, user, socket) ->
              system.systemActorOf(
                  ConnectionActor.create(
                      connectionId,
                      node,
                      user,
                      socket,
                      user == null ? null : entity(user.id()),
                      settings.presence().registerRetry(),
                      registry,
                      handling),
                  // The id itself, not a name made from it: the path then shares the id's
                  // string, one fewer per connection.
                  connectionId,
                  Props.empty());
      wss =
          settings.wss().edge() == SwitchboardSettings.Edge.PEKKO
              ? new PekkoWebSocketServer(
                  system,
                  settings.wss(),
                  tls == null ? null : ServerTls.jdkContext(settings.tls()),
                  verifier,
                  settings.auth().allowAnonymous(),
                  opener,
                  metrics::closed)
              : new WebSocketServer(
                  settings.wss(),
                  tls,
                  verifier,
                  settings.auth().allowAnonymous(),
                  opener,
                  metrics::closed);
      wssPort = wss.start();
      var apiServer = Http.get(system).newServerAt(settings.api().host(), settings.api().port());
      if (settings.api().tls()) {
        apiServer =
            apiServer.enableHttps(
                org.apache.pekko.http.javadsl.ConnectionContext.httpsServer(
                    ServerTls.jdkContext(settings.tls())));
      }
      api =
          apiServer
              .bindFlow(new ApiRoutes(this, new ApiKeys(apiKeys), settings.api(), system).flow())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("Switchboard failed to start: " + e.getMessage(), e);
    }
    if (devSecret) {
      log.warn("JWT_SECRET is not set: made a random one for this process (tokens work on this node only)");
    }
    if (devKey) {
      log.warn("API_KEY is not set: made a random one for this process");
    }
    addShutdownTasks();
    log.info(
        "Switchboard node {} started: {}://{}:{}{} ({} edge) and API {}://{}:{}",
        node,
        tls == null ? "ws" : "wss",
        settings.wss().host(),
        wssPort,
        settings.wss().path(),
        settings.wss().edge().name().toLowerCase(java.util.Locale.ROOT),
        settings.api().tls() ? "https" : "http",
        settings.api().host(),
        apiPort());
  }

  private Handling handling(SwitchboardSettings.Handler s, SocketHandler given, TokenVerifier tokens) {
    SocketHandler chosen = given;
    if (chosen == null && !s.url().isEmpty()) {
      chosen = new HttpForwardingHandler(s.url(), s.secret(), s.dataType(), s.timeout());
      log.info("client messages are forwarded to {}", s.url());
    }
    if (chosen == null) {
      chosen = ServiceLoader.load(SocketHandler.class).findFirst().orElse(null);
      if (chosen != null) {
        log.info("client messages go to {} (found with ServiceLoader)", chosen.getClass().getName());
      }
    }
    if (chosen == null) {
      log.info("no request handler: client messages are answered with an error");
    }
    return new Handling(
        chosen, s.dataType(), s.timeout(), s.maxInFlight(), s.maxQueued(), s.ratePerSecond(),
        s.rateBurst(), tokens, this);
  }

  /** Pekko settings that follow from Switchboard's own (so there is one place to set each). */
  private static Config pekkoConfig(SwitchboardSettings s) {
    SwitchboardSettings.Cluster c = s.cluster();
    Map<String, Object> values = new HashMap<>();
    values.put("pekko.remote.artery.canonical.hostname", c.host());
    values.put("pekko.remote.artery.canonical.port", c.port());
    values.put("pekko.remote.artery.bind.hostname", c.bindHost().isEmpty() ? c.host() : c.bindHost());
    values.put("pekko.remote.artery.bind.port", c.port());
    values.put(
        "pekko.cluster.split-brain-resolver.stable-after", c.downUnreachableAfter().toMillis() + "ms");
    if (c.bootstrap()) {
      String bootstrap = "pekko.management.cluster.bootstrap.contact-point-discovery.";
      values.put("pekko.management.http.hostname", c.host());
      values.put("pekko.management.http.port", c.managementPort());
      values.put("pekko.management.http.bind-hostname", c.bindHost().isEmpty() ? c.host() : c.bindHost());
      values.put("pekko.management.http.bind-port", c.managementPort());
      values.put(bootstrap + "discovery-method", c.discovery());
      values.put(bootstrap + "service-name", c.serviceName());
      values.put(bootstrap + "required-contact-point-nr", c.requiredContacts());
    }
    // The API's routes enforce api.max-body-size themselves, so that the answer is a JSON 413.
    values.put("pekko.http.server.parsing.max-content-length", "infinite");
    values.put(
        "pekko.coordinated-shutdown.phases.service-requests-done.timeout",
        s.drainTimeout().plusSeconds(2).toMillis() + "ms");
    values.put(
        "pekko.coordinated-shutdown.phases.before-cluster-shutdown.timeout",
        s.drainTimeout().plusSeconds(5).toMillis() + "ms");
    return ConfigFactory.parseMap(values);
  }

  private void join() {
    if (settings.cluster().bootstrap()) {
      // Pekko Management serves the contact point; Bootstrap discovers the others and joins or forms.
      PekkoManagement.get(system).start();
      ClusterBootstrap.get(system).start();
      return;
    }
    Cluster cluster = Cluster.get(system);
    List<Address> seeds = new ArrayList<>();
    for (SeedNode seed : settings.cluster().seedNodes()) {
      seeds.add(new Address("pekko", settings.clusterName(), seed.host(), seed.port()));
    }
    if (seeds.isEmpty()) {
      seeds.add(cluster.selfMember().address());
    }
    cluster.manager().tell(new JoinSeedNodes(seeds));
  }

  private void addShutdownTasks() {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(
        CoordinatedShutdown.PhaseBeforeServiceUnbind(),
        "switchboard-not-ready",
        () -> {
          shuttingDown = true;
          return CompletableFuture.completedFuture(Done.getInstance());
        });
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceUnbind(),
        "switchboard-stop-accepting",
        () -> {
          wss.stopAccepting();
          return api.unbind();
        });
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceRequestsDone(),
        "switchboard-close-sockets",
        () ->
            registry
                .closeAll(CloseCodes.GOING_AWAY, "going away", settings.drainTimeout())
                .thenApply(done -> Done.getInstance()));
    if (webhooks != null) {
      // After the sockets closed (their offline events are decided by then) and before the shards
      // leave: deliver what is queued, within the drain timeout, and report by id what is not.
      shutdown.addTask(
          CoordinatedShutdown.PhaseBeforeClusterShutdown(),
          "switchboard-drain-webhooks",
          () ->
              AskPattern.<WebhookDispatcher.Command, WebhookDispatcher.Drained>ask(
                      webhooks, WebhookDispatcher.Drain::new, settings.drainTimeout(),
                      system.scheduler())
                  .exceptionallyCompose(
                      timeout ->
                          AskPattern.ask(
                              webhooks,
                              WebhookDispatcher.ReportUndelivered::new,
                              Duration.ofSeconds(2),
                              system.scheduler()))
                  .handle((drained, error) -> Done.getInstance()));
    }
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceStop(),
        "switchboard-stop-io",
        () -> {
          wss.close();
          return api.terminate(Duration.ofSeconds(2)).thenApply(terminated -> Done.getInstance());
        });
  }

  /**
   * The outcome of {@code ask}, as a plain {@link CompletableFuture} completed on the thread that
   * answers. Pekko's asks return Scala's {@code CompletionStage}, which runs every continuation
   * ({@code thenApply}, {@code handle}, ...) as a task on the common pool; with fewer than three cores
   * that pool has one worker and the JDK starts <em>a new thread per task</em> instead (38k threads a
   * minute at 1,500 sends/s on two cores). Our continuations are cheap; they run where the answer
   * arrives.
   */
  static <T> CompletableFuture<T> onCompletingThread(CompletionStage<T> ask) {
    CompletableFuture<T> plain = new CompletableFuture<>();
    ask.whenCompleteAsync(
        (value, error) -> {
          if (error != null) {
            plain.completeExceptionally(error);
          } else {
            plain.complete(value);
          }
        },
        Runnable::run);
    return plain;
  }

  private EntityRef<UserPresence.Command> entity(String userId) {
    return sharding.entityRefFor(UserPresence.TYPE_KEY, userId);
  }

  private static String requireValidUserId(String userId) {
    Limits.userIdProblem(userId)
        .ifPresent(
            problem -> {
              throw new IllegalArgumentException(problem);
            });
    return userId;
  }

  private Duration askTimeout() {
    return settings.api().askTimeout();
  }

  /**
   * Sends {@code message} to every connection of {@code userId}: a {@code String} as text, a
   * {@code byte[]} as binary, anything else as JSON. Completes with the number of connections it was
   * handed to (0 when the user is offline).
   */
  @Override
  public CompletionStage<Integer> send(String userId, Object message) {
    OutboundMessage outbound = OutboundMessage.of(message);
    return onCompletingThread(
            entity(requireValidUserId(userId))
                .ask(
                    (ActorRef<UserPresence.Delivered> replyTo) ->
                        new UserPresence.SendToUser(outbound, replyTo),
                    askTimeout()))
        .thenApply(UserPresence.Delivered::connections);
  }

  /** The model's {@code to(userIds).send(message)}: up to {@value Limits#MAX_USERS_PER_REQUEST} users. */
  @Override
  public Recipients to(Collection<String> userIds) {
    if (userIds.size() > Limits.MAX_USERS_PER_REQUEST) {
      throw new IllegalArgumentException(
          "at most " + Limits.MAX_USERS_PER_REQUEST + " users per send, got " + userIds.size());
    }
    userIds.forEach(Switchboard::requireValidUserId);
    List<String> distinct = List.copyOf(new LinkedHashSet<>(userIds));
    return message -> {
      OutboundMessage outbound = OutboundMessage.of(message);
      List<CompletableFuture<Integer>> counts = new ArrayList<>(distinct.size());
      for (String userId : distinct) {
        counts.add(send(userId, outbound).toCompletableFuture());
      }
      return CompletableFuture.allOf(counts.toArray(CompletableFuture[]::new))
          .thenApply(
              all -> {
                Map<String, Integer> result = new LinkedHashMap<>();
                for (int i = 0; i < distinct.size(); i++) {
                  result.put(distinct.get(i), counts.get(i).join());
                }
                return result;
              });
    };
  }

  /** The user's open connections, oldest first. */
  public CompletionStage<Presence> presence(String userId) {
    return onCompletingThread(
            entity(requireValidUserId(userId))
                .ask(
                    (ActorRef<UserPresence.Snapshot> replyTo) ->
                        new UserPresence.GetPresence(replyTo),
                    askTimeout()))
        .thenApply(
            snapshot ->
                new Presence(
                    userId, snapshot.online(), snapshot.inGrace(), snapshot.connections()));
  }

  @Override
  public CompletionStage<Boolean> isOnline(String userId) {
    return presence(userId).thenApply(Presence::online);
  }

  /** Closes every connection of the user with 4000 and {@code reason}; completes with how many. */
  public CompletionStage<Integer> closeConnections(String userId, String reason) {
    return onCompletingThread(
            entity(requireValidUserId(userId))
                .ask(
                    (ActorRef<UserPresence.Closed> replyTo) ->
                        new UserPresence.CloseConnections(CloseCodes.CLOSED_BY_APP, reason, replyTo),
                    askTimeout()))
        .thenApply(UserPresence.Closed::connections);
  }

  /** Adds a listener for every presence event of the cluster, as this node receives them. */
  public PresenceListener.Registration presenceListener(PresenceListener listener) {
    return hub.add(listener);
  }

  /** The model's {@code onOnline(userId)}: called when a user's first connection opens. */
  public PresenceListener.Registration onOnline(Consumer<String> listener) {
    return hub.add(event -> {
      if (event.kind() == PresenceEvent.Kind.online) {
        listener.accept(event.userId());
      }
    });
  }

  /** The model's {@code onOffline(userId)}: called when a user's last connection is gone. */
  public PresenceListener.Registration onOffline(Consumer<String> listener) {
    return hub.add(event -> {
      if (event.kind() == PresenceEvent.Kind.offline) {
        listener.accept(event.userId());
      }
    });
  }

  /** Ready for traffic: a cluster member that is Up, with sharding started, and not shutting down. */
  public boolean isReady() {
    return !shuttingDown
        && Cluster.get(system).selfMember().status().equals(MemberStatus.up());
  }

  /** The cluster's members as this node sees them, sorted by address. */
  public ClusterView clusterView() {
    CurrentClusterState state = Cluster.get(system).state();
    Set<Member> unreachable = state.getUnreachable();
    List<ClusterView.Member> members = new ArrayList<>();
    for (Member member : state.getMembers()) {
      members.add(
          new ClusterView.Member(
              hostPort(member.address()),
              member.status().toString().toLowerCase(Locale.ROOT),
              !unreachable.contains(member)));
    }
    members.sort(Comparator.comparing(ClusterView.Member::address));
    Address leader = state.getLeader();
    return new ClusterView(node, leader == null ? null : hostPort(leader), members);
  }

  /**
   * Every member's counts, asked through the receptionist; members that do not answer within 2 s (or
   * have not registered yet) are listed as unanswered.
   */
  public CompletionStage<NodeStats> nodeStats() {
    Duration timeout = Duration.ofSeconds(2);
    CompletionStage<Receptionist.Listing> listing =
        onCompletingThread(
            AskPattern.ask(
                system.receptionist(),
                replyTo -> Receptionist.find(NodeStatsReporter.KEY, replyTo),
                timeout,
                system.scheduler()));
    return listing.thenCompose(
        found -> {
          List<CompletableFuture<NodeStats.Node>> answers = new ArrayList<>();
          for (ActorRef<NodeStatsReporter.Get> reporter : found.getServiceInstances(NodeStatsReporter.KEY)) {
            answers.add(
                onCompletingThread(
                        AskPattern.<NodeStatsReporter.Get, NodeStatsReporter.Stats>ask(
                            reporter, NodeStatsReporter.Get::new, timeout, system.scheduler()))
                    .thenApply(NodeStatsReporter.Stats::node)
                    .exceptionally(e -> null)
                    .toCompletableFuture());
          }
          return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
              .thenApply(done -> gathered(answers.stream().map(CompletableFuture::join).toList()));
        });
  }

  /** The answers that came (null: none), sorted, and the members that gave none. */
  private NodeStats gathered(List<NodeStats.Node> answers) {
    List<NodeStats.Node> nodes =
        answers.stream()
            .filter(Objects::nonNull)
            .sorted(Comparator.comparing(NodeStats.Node::node))
            .toList();
    Set<String> answered = nodes.stream().map(NodeStats.Node::node).collect(Collectors.toSet());
    List<String> unanswered = new ArrayList<>();
    for (Member member : Cluster.get(system).state().getMembers()) {
      String address = hostPort(member.address());
      if (!answered.contains(address)) {
        unanswered.add(address);
      }
    }
    unanswered.sort(Comparator.naturalOrder());
    return new NodeStats(nodes, unanswered);
  }

  private static String hostPort(Address address) {
    return address.host().getOrElse(() -> "") + ":" + address.port().getOrElse(() -> 0);
  }

  /** This node's name in presence answers: the cluster host and port. */
  public String node() {
    return node;
  }

  public int wssPort() {
    return wssPort;
  }

  public int apiPort() {
    return api.localAddress().getPort();
  }

  /** Sockets open on this node. */
  public int connectionCount() {
    return registry.size();
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** True when the JWT secret or the API key was made up at start (a dev node). */
  public boolean usesDevSecrets() {
    return devSecrets;
  }

  /** A token for {@code userId} signed with this node's JWT secret (for the dev banner and tests). */
  public String tokenFor(String userId, Duration ttl) {
    return DevTokens.sign(jwtSecret, userId, ttl);
  }

  /** The first API key (for the dev banner). */
  public String apiKey() {
    return apiKeys.get(0);
  }

  public SwitchboardSettings settings() {
    return settings;
  }

  /** Runs Coordinated Shutdown (as SIGTERM does) and waits for the node to stop. */
  @Override
  public void close() {
    CoordinatedShutdown.get(system)
        .runAll(CoordinatedShutdown.unknownReason())
        .toCompletableFuture()
        .join();
    system.getWhenTerminated().toCompletableFuture().join();
  }
}
