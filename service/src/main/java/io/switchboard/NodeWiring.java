package io.switchboard;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.netty.handler.ssl.SslContext;
import io.switchboard.api.ApiRoutes;
import io.switchboard.auth.ApiKeys;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.config.SeedNode;
import io.switchboard.config.SwitchboardSettings;
import io.switchboard.connection.ConnectionActor;
import io.switchboard.connection.ConnectionOpener;
import io.switchboard.connection.ConnectionRegistry;
import io.switchboard.connection.Handling;
import io.switchboard.connection.MalformedRequestAnswer;
import io.switchboard.connection.PekkoWebSocketServer;
import io.switchboard.connection.WebSocketEdge;
import io.switchboard.connection.WebSocketServer;
import io.switchboard.events.WebhookDispatcher;
import io.switchboard.handler.HttpForwardingHandler;
import io.switchboard.handler.SocketHandler;
import io.switchboard.messaging.ShardedMessaging;
import io.switchboard.metrics.NodeStatsReporter;
import io.switchboard.metrics.SwitchboardMetrics;
import io.switchboard.presence.PresenceEventHub;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.CloseCodes;
import io.switchboard.tls.ServerTls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a node, each part before the parts that use it: settings and secrets, the actor system with
 * its {@link Guardian}, metrics, the join (seed nodes or Cluster Bootstrap), the in-node operations,
 * the WebSocket edge, the API binding, and the Coordinated Shutdown tasks that take it down in order
 * (not ready, stop accepting, close sockets with 1001, drain webhooks, stop the servers). A node that
 * fails to start terminates its actor system and throws {@link IllegalStateException}.
 */
final class NodeWiring {
  // The node's log lines keep the name operators know them by.
  private static final Logger log = LoggerFactory.getLogger(Switchboard.class);

  /** The API's longest request URI: 8 KiB. */
  static final String API_MAX_URI = "8k";

  private NodeWiring() {}

  /** Starts a node with {@code config} (resolved, with Switchboard's defaults below it). */
  static StartedNode start(Config config, SocketHandler handler) {
    SwitchboardSettings settings = SwitchboardSettings.from(config);
    String node = settings.cluster().host() + ":" + settings.cluster().port();
    NodeSecrets secrets = NodeSecrets.from(settings);
    TokenVerifier verifier = secrets.verifier(settings);
    SocketHandler chosen = chooseHandler(settings.handler(), handler);
    SslContext tls = ServerTls.context(settings.tls());

    PresenceEventHub hub = new PresenceEventHub();
    CompletableFuture<Guardian.Started> started = new CompletableFuture<>();
    ActorSystem<Void> system =
        ActorSystem.create(
            Guardian.create(hub, settings, started),
            settings.clusterName(),
            pekkoConfig(settings).withFallback(config));
    ConnectionRegistry registry = new ConnectionRegistry();
    ClusterStatus cluster = new ClusterStatus(system, node);
    ShardedMessaging users;
    WebSocketEdge wss;
    int wssPort;
    ServerBinding api;
    ActorRef<WebhookDispatcher.Command> webhooks;
    try {
      webhooks = started.get(30, TimeUnit.SECONDS).webhooks();
      ClusterSharding sharding = ClusterSharding.get(system);
      SwitchboardMetrics metrics = SwitchboardMetrics.get(system);
      metrics.bindCluster(Cluster.get(system));
      metrics.gauge("switchboard.connections", "open client connections on this node", registry,
          ConnectionRegistry::size);
      system.systemActorOf(NodeStatsReporter.create(node, registry), "node-stats", Props.empty());
      join(system, settings);

      users = new ShardedMessaging(sharding, settings.api().askTimeout());
      SwitchboardSettings.Handler h = settings.handler();
      Handling handling =
          new Handling(
              chosen, h.dataType(), h.timeout(), h.maxInFlight(), h.maxQueued(), h.ratePerSecond(),
              h.rateBurst(), verifier, users);
      ConnectionOpener opener =
          (connectionId, user, socket) ->
              system.systemActorOf(
                  ConnectionActor.create(
                      connectionId,
                      node,
                      user,
                      socket,
                      user == null ? null : sharding.entityRefFor(UserPresence.TYPE_KEY, user.id()),
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
      ApiRoutes routes =
          new ApiRoutes(
              users, users, hub, cluster, new ApiKeys(secrets.apiKeys()), settings.api(), system);
      api = bindApi(system, settings, routes);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("Switchboard failed to start: " + e.getMessage(), e);
    }
    secrets.warnIfMadeUp();
    addShutdownTasks(system, settings, cluster, wss, api, registry, webhooks);
    int apiPort = api.localAddress().getPort();
    log.info(
        "Switchboard node {} started: {}://{}:{}{} ({} edge) and API {}://{}:{}",
        node,
        tls == null ? "ws" : "wss",
        settings.wss().host(),
        wssPort,
        settings.wss().path(),
        settings.wss().edge().name().toLowerCase(Locale.ROOT),
        settings.api().tls() ? "https" : "http",
        settings.api().host(),
        apiPort);
    return new StartedNode(
        node, settings, secrets, system, users, hub, cluster, registry, wssPort, apiPort);
  }

  /**
   * The given handler; with null, one forwarding to {@code HANDLER_URL} if set, else one found with
   * {@link ServiceLoader}, else none (null: each client message is answered with an error).
   */
  private static SocketHandler chooseHandler(SwitchboardSettings.Handler s, SocketHandler given) {
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
    return chosen;
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
    if (!c.bootstrap()) {
      // Pekko joins these by itself; its "relying on Cluster Bootstrap" line is for an empty list.
      values.put("pekko.cluster.seed-nodes", seedAddresses(s));
    }
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

  /**
   * Starts joining the cluster, and logs how. With seed nodes Pekko joins them by itself
   * ({@code pekko.cluster.seed-nodes}, set in {@link #pekkoConfig}); with Cluster Bootstrap, Pekko
   * Management serves this node's contact point and Bootstrap discovers the others, then joins or forms.
   */
  private static void join(ActorSystem<Void> system, SwitchboardSettings settings) {
    SwitchboardSettings.Cluster cluster = settings.cluster();
    if (cluster.bootstrap()) {
      log.info(
          "joining through Cluster Bootstrap: discovery {}, service {}, {} contact points needed",
          cluster.discovery(), cluster.serviceName(), cluster.requiredContacts());
      PekkoManagement.get(system).start();
      ClusterBootstrap.get(system).start();
    } else if (cluster.seedNodes().isEmpty()) {
      log.info("forming a cluster of its own (SEED_NODES is empty): other nodes join it through {}",
          cluster.host() + ":" + cluster.port());
    } else {
      log.info("joining the cluster through the seed nodes {}", seedAddresses(settings));
    }
  }

  /** The seed nodes as Pekko addresses; none given: this node itself, which then forms the cluster. */
  private static List<String> seedAddresses(SwitchboardSettings settings) {
    SwitchboardSettings.Cluster cluster = settings.cluster();
    List<SeedNode> seeds = cluster.seedNodes().isEmpty()
        ? List.of(new SeedNode(cluster.host(), cluster.port()))
        : cluster.seedNodes();
    List<String> addresses = new ArrayList<>();
    for (SeedNode seed : seeds) {
      String host = seed.host().contains(":") ? "[" + seed.host() + "]" : seed.host();
      addresses.add("pekko://" + settings.clusterName() + "@" + host + ":" + seed.port());
    }
    return addresses;
  }

  private static ServerBinding bindApi(
      ActorSystem<Void> system, SwitchboardSettings settings, ApiRoutes routes) throws Exception {
    // A request the server cannot parse gets the routes' JSON error shape; the URI limit fits a
    // path with the longest user id percent-encoded (256 characters of 3 UTF-8 bytes, 9 characters each).
    Config parsing = system.settings().config()
        .withValue("pekko.http.server.parsing.error-handler",
            ConfigValueFactory.fromAnyRef(MalformedRequestAnswer.class.getName()))
        .withValue("pekko.http.server.parsing.max-uri-length", ConfigValueFactory.fromAnyRef(API_MAX_URI));
    var server = Http.get(system).newServerAt(settings.api().host(), settings.api().port())
        .withSettings(ServerSettings.create(parsing));
    if (settings.api().tls()) {
      server = server.enableHttps(ConnectionContext.httpsServer(ServerTls.jdkContext(settings.tls())));
    }
    return server.bindFlow(routes.flow()).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static void addShutdownTasks(
      ActorSystem<Void> system,
      SwitchboardSettings settings,
      ClusterStatus cluster,
      WebSocketEdge wss,
      ServerBinding api,
      ConnectionRegistry registry,
      ActorRef<WebhookDispatcher.Command> webhooks) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(
        CoordinatedShutdown.PhaseBeforeServiceUnbind(),
        "switchboard-not-ready",
        () -> {
          cluster.shuttingDown();
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
}
