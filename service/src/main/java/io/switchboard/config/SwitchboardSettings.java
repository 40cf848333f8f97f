package io.switchboard.config;

import com.typesafe.config.Config;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.events.WebhookDispatcher;
import io.switchboard.handler.DataType;
import io.switchboard.presence.UserPresence;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Typed view of the {@code switchboard} section of the configuration. Read once at start; every field
 * has its default and comment in {@code reference.conf}.
 */
public record SwitchboardSettings(
    String clusterName,
    Cluster cluster,
    Wss wss,
    Tls tls,
    Auth auth,
    Api api,
    Handler handler,
    Optional<WebhookDispatcher.Settings> webhook,
    PresenceSettings presence,
    Duration drainTimeout) {

  public SwitchboardSettings {
    presence.checkAgainst(api.askTimeout());
  }

  /**
   * How the node finds its cluster: {@code discovery} "seed-nodes" joins {@code seedNodes}; any other
   * value is a Pekko Discovery method ("kubernetes-api", "config", ...) used by Pekko Management's
   * Cluster Bootstrap, which looks up {@code serviceName} and waits for {@code requiredContacts}
   * contact points on their management port before forming or joining the cluster.
   */
  public record Cluster(
      String host,
      int port,
      String bindHost,
      List<SeedNode> seedNodes,
      Duration downUnreachableAfter,
      String discovery,
      String serviceName,
      int requiredContacts,
      int managementPort) {
    public boolean bootstrap() {
      return !discovery.equals("seed-nodes");
    }
  }

  public record Wss(
      String host,
      int port,
      String path,
      Duration pingInterval,
      Duration idleTimeout,
      Duration handshakeTimeout,
      int maxMessageSize,
      int outgoingBufferLimit,
      int outgoingQueueLimit,
      int ioThreads,
      List<String> allowedOrigins,
      int maxConnections,
      int acceptBacklog,
      Edge edge) {}

  /** The library serving client sockets. */
  public enum Edge {
    NETTY,
    PEKKO
  }

  public record Tls(
      boolean enabled,
      String certFile,
      String keyFile,
      String keystoreFile,
      String keystorePassword,
      String devCertDir) {}

  /**
   * {@code jwtSecrets}: HS256 secrets, all accepted (rotation), the first signs dev tokens; empty: a
   * random one. {@code tokenOptions}: public keys (JWKS) and required aud/iss.
   */
  public record Auth(
      List<String> jwtSecrets,
      TokenVerifier.Options tokenOptions,
      Duration clockSkew,
      boolean allowAnonymous,
      String devUser) {}

  public record Api(
      String host,
      int port,
      List<String> keys,
      Duration askTimeout,
      long maxBodySize,
      Duration eventsHeartbeat,
      int eventsBuffer,
      boolean tls) {}

  public record Handler(
      String url,
      String secret,
      DataType dataType,
      Duration timeout,
      int maxInFlight,
      int maxQueued,
      double ratePerSecond,
      int rateBurst) {

    public Handler {
      if (ratePerSecond < 0 || rateBurst < 1) {
        throw new IllegalArgumentException("WS_RATE_LIMIT must be 0 or more and WS_RATE_BURST at least 1");
      }
      if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(Duration.ofSeconds(30)) > 0) {
        throw new IllegalArgumentException("HANDLER_TIMEOUT must be between 1s and 30s, got " + timeout);
      }
      if (maxInFlight < 1 || maxQueued < maxInFlight) {
        throw new IllegalArgumentException(
            "HANDLER_MAX_IN_FLIGHT must be at least 1 and HANDLER_MAX_QUEUED at least as large");
      }
      if (!url.isEmpty() && secret.isEmpty()) {
        throw new IllegalArgumentException("HANDLER_URL needs HANDLER_SECRET to sign requests");
      }
    }
  }

  /**
   * {@code switchboard.presence}. A node refuses to start when these contradict each other or
   * {@code api.ask-timeout}: the checks below are what the user entities rely on.
   */
  public record PresenceSettings(
      Duration offlineGrace,
      Duration passivateAfter,
      Duration registerRetry,
      Duration recordTimeout,
      Duration recoverySettle,
      int maxConnectionsPerUser,
      Duration rejoinWindow,
      Duration namedRejoinLimit,
      Duration stoppedCheck,
      int maxHeldSends,
      int maxStashedWhileLoading) {

    public PresenceSettings {
      if (offlineGrace.isNegative()) {
        throw new IllegalArgumentException(
            named("PRESENCE_OFFLINE_GRACE", "offline-grace", offlineGrace) + " must be 0s or more");
      }
      positive("passivate-after", passivateAfter);
      positive("register-retry", registerRetry);
      positive("record-timeout", recordTimeout);
      positive("recovery-settle", recoverySettle);
      positive("rejoin-window", rejoinWindow);
      positive("named-rejoin-limit", namedRejoinLimit);
      positive("stopped-check", stoppedCheck);
      if (maxConnectionsPerUser < 1) {
        throw new IllegalArgumentException(
            "MAX_CONNECTIONS_PER_USER (switchboard.presence.max-connections-per-user) must be at least"
                + " 1, got " + maxConnectionsPerUser);
      }
      if (maxHeldSends < 0 || maxStashedWhileLoading < 1) {
        throw new IllegalArgumentException(
            "switchboard.presence.max-held-sends must be 0 or more and"
                + " switchboard.presence.max-stashed-while-loading at least 1");
      }
      // A connection whose registration was lost re-sends it while a recovering entity still waits.
      if (registerRetry.compareTo(recoverySettle) >= 0) {
        throw new IllegalArgumentException(
            named(null, "register-retry", registerRetry) + " must be below "
                + named("PRESENCE_RECOVERY_SETTLE", "recovery-settle", recoverySettle));
      }
    }

    /**
     * The entities' waits against {@code askTimeout}, how long a request waits for a user's entity:
     * the record read at start, the recovery settle and the rejoin window end within it, so that a send
     * held meanwhile is answered; the named-rejoin limit is beyond it, so that a send held for named
     * connections is handed to all of them or not accepted (503) at all.
     */
    void checkAgainst(Duration askTimeout) {
      String ask = "API_ASK_TIMEOUT (switchboard.api.ask-timeout, " + askTimeout + ")";
      if (recordTimeout.compareTo(askTimeout) >= 0) {
        throw new IllegalArgumentException(
            named(null, "record-timeout", recordTimeout) + " must be below " + ask);
      }
      if (recoverySettle.compareTo(askTimeout) >= 0) {
        throw new IllegalArgumentException(
            named("PRESENCE_RECOVERY_SETTLE", "recovery-settle", recoverySettle)
                + " must be below " + ask);
      }
      if (rejoinWindow.compareTo(askTimeout) >= 0) {
        throw new IllegalArgumentException(
            named(null, "rejoin-window", rejoinWindow) + " must be below " + ask);
      }
      if (namedRejoinLimit.compareTo(askTimeout) <= 0) {
        throw new IllegalArgumentException(
            named("PRESENCE_NAMED_REJOIN_LIMIT", "named-rejoin-limit", namedRejoinLimit)
                + " must be above " + ask);
      }
    }

    /** The user entities' waits and holds. */
    public UserPresence.Limits limits() {
      return new UserPresence.Limits(
          rejoinWindow, namedRejoinLimit, stoppedCheck, maxHeldSends, maxStashedWhileLoading);
    }

    private static void positive(String name, Duration value) {
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(named(null, name, value) + " must be above 0s");
      }
    }

    /** A presence setting as a message names it: its variable, if any, its path and its value. */
    private static String named(String variable, String name, Duration value) {
      String path = "switchboard.presence." + name;
      return variable == null ? path + " (" + value + ")" : variable + " (" + path + ", " + value + ")";
    }
  }

  public static SwitchboardSettings from(Config root) {
    Config c = root.getConfig("switchboard");
    Config cl = c.getConfig("cluster");
    Config ws = c.getConfig("wss");
    Config tls = c.getConfig("tls");
    Config auth = c.getConfig("auth");
    Config api = c.getConfig("api");
    Config presence = c.getConfig("presence");
    Config handler = c.getConfig("handler");
    Config events = c.getConfig("events");
    return new SwitchboardSettings(
        c.getString("cluster-name"),
        new Cluster(
            cl.getString("host"),
            port(cl, "port", "CLUSTER_PORT"),
            cl.getString("bind-host"),
            SeedNode.parseAll(cl.getString("seed-nodes"), c.getString("cluster-name")),
            cl.getDuration("down-unreachable-after"),
            cl.getString("discovery"),
            cl.getString("service-name").isEmpty()
                ? c.getString("cluster-name")
                : cl.getString("service-name"),
            cl.getInt("required-contact-points"),
            port(cl, "management-port", "MANAGEMENT_PORT")),
        new Wss(
            ws.getString("host"),
            port(ws, "port", "WSS_PORT"),
            ws.getString("path"),
            ws.getDuration("ping-interval"),
            ws.getDuration("idle-timeout"),
            ws.getDuration("handshake-timeout"),
            Math.toIntExact(ws.getBytes("max-message-size")),
            Math.toIntExact(ws.getBytes("outgoing-buffer-limit")),
            ws.getInt("outgoing-queue-limit"),
            ws.getInt("io-threads"),
            commaList(ws.getString("allowed-origins")),
            ws.getInt("max-connections"),
            ws.getInt("accept-backlog"),
            edge(ws.getString("edge"))),
        new Tls(
            tls.getBoolean("enabled"),
            tls.getString("cert-file"),
            tls.getString("key-file"),
            tls.getString("keystore-file"),
            tls.getString("keystore-password"),
            tls.getString("dev-cert-dir")),
        new Auth(
            commaList(auth.getString("jwt-secret")),
            new TokenVerifier.Options(
                optional(auth.getString("jwks-file")).map(Path::of),
                optional(auth.getString("jwks-url")).map(SwitchboardSettings::url),
                auth.getDuration("jwks-refresh-interval"),
                optional(auth.getString("audience")),
                optional(auth.getString("issuer"))),
            auth.getDuration("clock-skew"),
            auth.getBoolean("allow-anonymous"),
            auth.getString("dev-user")),
        new Api(
            api.getString("host"),
            port(api, "port", "API_PORT"),
            commaList(api.getString("keys")),
            api.getDuration("ask-timeout"),
            api.getBytes("max-body-size"),
            api.getDuration("events-heartbeat"),
            api.getInt("events-buffer"),
            api.getBoolean("tls")),
        new Handler(
            handler.getString("url"),
            handler.getString("secret"),
            DataType.parse(handler.getString("data-type")),
            handler.getDuration("timeout"),
            handler.getInt("max-in-flight"),
            handler.getInt("max-queued"),
            handler.getDouble("rate-limit"),
            handler.getInt("rate-burst")),
        webhook(events),
        new PresenceSettings(
            presence.getDuration("offline-grace"),
            presence.getDuration("passivate-after"),
            presence.getDuration("register-retry"),
            presence.getDuration("record-timeout"),
            presence.getDuration("recovery-settle"),
            presence.getInt("max-connections-per-user"),
            presence.getDuration("rejoin-window"),
            presence.getDuration("named-rejoin-limit"),
            presence.getDuration("stopped-check"),
            presence.getInt("max-held-sends"),
            presence.getInt("max-stashed-while-loading")),
        c.getDuration("shutdown.drain-timeout"));
  }

  private static Optional<WebhookDispatcher.Settings> webhook(Config events) {
    String url = events.getString("webhook-url");
    if (url.isEmpty()) {
      return Optional.empty();
    }
    String secret = events.getString("webhook-secret");
    if (secret.isEmpty()) {
      throw new IllegalArgumentException("EVENTS_WEBHOOK_URL needs EVENTS_WEBHOOK_SECRET to sign events");
    }
    return Optional.of(
        new WebhookDispatcher.Settings(
            url,
            secret,
            events.getDuration("webhook-timeout"),
            events.getDuration("webhook-retry-initial"),
            events.getDuration("webhook-retry-max"),
            events.getInt("webhook-max-attempts"),
            events.getInt("webhook-max-queued")));
  }

  /** A TCP port setting: 0 (any free port) to 65535, else refused naming its variable. */
  private static int port(Config config, String path, String variable) {
    int port = config.getInt(path);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(variable + " must be a port from 0 to 65535, got " + port);
    }
    return port;
  }

  private static Optional<String> optional(String value) {
    return value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  private static java.net.URL url(String value) {
    try {
      return java.net.URI.create(value).toURL();
    } catch (IllegalArgumentException | java.net.MalformedURLException e) {
      throw new IllegalArgumentException("JWT_JWKS_URL is not a URL: " + value, e);
    }
  }

  private static Edge edge(String value) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "netty" -> Edge.NETTY;
      case "pekko" -> Edge.PEKKO;
      default -> throw new IllegalArgumentException("WSS_EDGE must be netty or pekko, got " + value);
    };
  }

  private static List<String> commaList(String value) {
    return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
