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
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

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

  /** An actor system's name, which the cluster name is. */
  private static final Pattern SYSTEM_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_-]*");
  private static final List<String> LOG_LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");

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
      Edge edge) {

    public Wss {
      // A socket that answers pings is never idle for longer than the ping interval.
      if (pingInterval.compareTo(idleTimeout) >= 0) {
        throw new IllegalArgumentException(
            "WS_PING_INTERVAL (switchboard.wss.ping-interval, " + pingInterval + ") must be below"
                + " WS_IDLE_TIMEOUT (switchboard.wss.idle-timeout, " + idleTimeout + ")");
      }
    }
  }

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
      if (maxQueued < maxInFlight) {
        throw new IllegalArgumentException(
            "HANDLER_MAX_QUEUED (switchboard.handler.max-queued, " + maxQueued + ") must be at least"
                + " HANDLER_MAX_IN_FLIGHT (switchboard.handler.max-in-flight, " + maxInFlight + ")");
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

    /** A presence setting as a message names it: its variable, if any, its path and its value. */
    private static String named(String variable, String name, Duration value) {
      String path = "switchboard.presence." + name;
      return variable == null ? path + " (" + value + ")" : variable + " (" + path + ", " + value + ")";
    }
  }

  /** The {@code switchboard} section of {@code root}, each value checked (see {@link SettingReader}). */
  public static SwitchboardSettings from(Config root) {
    SettingReader r = new SettingReader(root);
    String clusterName = r.string("switchboard.cluster-name");
    if (!SYSTEM_NAME.matcher(clusterName).matches()) {
      throw r.refused("switchboard.cluster-name", "letters, digits, - and _, starting with a letter or digit");
    }
    // Read where they are used, checked here.
    if (root.hasPath("pekko.cluster.sharding.number-of-shards")) {
      r.count("pekko.cluster.sharding.number-of-shards", 1);
    }
    r.positiveDuration("switchboard.presence.record-gossip-interval");
    String serviceName = r.string("switchboard.cluster.service-name");
    return new SwitchboardSettings(
        clusterName,
        new Cluster(
            r.string("switchboard.cluster.host"),
            r.port("switchboard.cluster.port"),
            r.string("switchboard.cluster.bind-host"),
            SeedNode.parseAll(r.string("switchboard.cluster.seed-nodes"), clusterName),
            r.positiveDuration("switchboard.cluster.down-unreachable-after"),
            r.string("switchboard.cluster.discovery"),
            serviceName.isEmpty() ? clusterName : serviceName,
            r.count("switchboard.cluster.required-contact-points", 1),
            r.port("switchboard.cluster.management-port")),
        new Wss(
            r.string("switchboard.wss.host"),
            r.port("switchboard.wss.port"),
            path(r, "switchboard.wss.path"),
            r.positiveDuration("switchboard.wss.ping-interval"),
            r.positiveDuration("switchboard.wss.idle-timeout"),
            r.positiveDuration("switchboard.wss.handshake-timeout"),
            r.size("switchboard.wss.max-message-size"),
            r.size("switchboard.wss.outgoing-buffer-limit"),
            r.count("switchboard.wss.outgoing-queue-limit", 1),
            r.count("switchboard.wss.io-threads", 0),
            commaList(r.string("switchboard.wss.allowed-origins")),
            r.count("switchboard.wss.max-connections", 1),
            r.count("switchboard.wss.accept-backlog", 1),
            r.choice("switchboard.wss.edge", Map.of("netty", Edge.NETTY, "pekko", Edge.PEKKO))),
        new Tls(
            r.flag("switchboard.tls.enabled"),
            r.string("switchboard.tls.cert-file"),
            r.string("switchboard.tls.key-file"),
            r.string("switchboard.tls.keystore-file"),
            r.string("switchboard.tls.keystore-password"),
            r.string("switchboard.tls.dev-cert-dir")),
        new Auth(
            commaList(r.string("switchboard.auth.jwt-secret")),
            new TokenVerifier.Options(
                optional(r.string("switchboard.auth.jwks-file")).map(Path::of),
                optional(url(r, "switchboard.auth.jwks-url")).map(SwitchboardSettings::toUrl),
                r.positiveDuration("switchboard.auth.jwks-refresh-interval"),
                optional(r.string("switchboard.auth.audience")),
                optional(r.string("switchboard.auth.issuer"))),
            r.nonNegativeDuration("switchboard.auth.clock-skew"),
            r.flag("switchboard.auth.allow-anonymous"),
            r.string("switchboard.auth.dev-user")),
        new Api(
            r.string("switchboard.api.host"),
            r.port("switchboard.api.port"),
            commaList(r.string("switchboard.api.keys")),
            r.positiveDuration("switchboard.api.ask-timeout"),
            r.size("switchboard.api.max-body-size"),
            r.positiveDuration("switchboard.api.events-heartbeat"),
            r.count("switchboard.api.events-buffer", 1),
            r.flag("switchboard.api.tls")),
        new Handler(
            url(r, "switchboard.handler.url"),
            r.string("switchboard.handler.secret"),
            r.choice("switchboard.handler.data-type",
                Map.of("json", DataType.JSON, "string", DataType.STRING, "binary", DataType.BINARY)),
            r.durationBetween("switchboard.handler.timeout", Duration.ofSeconds(1), Duration.ofSeconds(30)),
            r.count("switchboard.handler.max-in-flight", 1),
            r.count("switchboard.handler.max-queued", 1),
            r.rate("switchboard.handler.rate-limit"),
            r.count("switchboard.handler.rate-burst", 1)),
        webhook(r),
        new PresenceSettings(
            r.nonNegativeDuration("switchboard.presence.offline-grace"),
            r.positiveDuration("switchboard.presence.passivate-after"),
            r.positiveDuration("switchboard.presence.register-retry"),
            r.positiveDuration("switchboard.presence.record-timeout"),
            r.positiveDuration("switchboard.presence.recovery-settle"),
            r.count("switchboard.presence.max-connections-per-user", 1),
            r.positiveDuration("switchboard.presence.rejoin-window"),
            r.positiveDuration("switchboard.presence.named-rejoin-limit"),
            r.positiveDuration("switchboard.presence.stopped-check"),
            r.count("switchboard.presence.max-held-sends", 0),
            r.count("switchboard.presence.max-stashed-while-loading", 1)),
        r.nonNegativeDuration("switchboard.shutdown.drain-timeout"));
  }

  private static Optional<WebhookDispatcher.Settings> webhook(SettingReader r) {
    // Read even when no webhook is configured: a bad value is refused either way.
    String url = url(r, "switchboard.events.webhook-url");
    String secret = r.string("switchboard.events.webhook-secret");
    Duration timeout = r.positiveDuration("switchboard.events.webhook-timeout");
    Duration retryInitial = r.positiveDuration("switchboard.events.webhook-retry-initial");
    Duration retryMax = r.duration("switchboard.events.webhook-retry-max", retryInitial, false);
    int maxAttempts = r.count("switchboard.events.webhook-max-attempts", 1);
    int maxQueued = r.count("switchboard.events.webhook-max-queued", 1);
    if (url.isEmpty()) {
      return Optional.empty();
    }
    if (secret.isEmpty()) {
      throw new IllegalArgumentException("EVENTS_WEBHOOK_URL needs EVENTS_WEBHOOK_SECRET to sign events");
    }
    return Optional.of(
        new WebhookDispatcher.Settings(url, secret, timeout, retryInitial, retryMax, maxAttempts, maxQueued));
  }

  /** A URL path setting: starts with a slash. */
  private static String path(SettingReader r, String path) {
    String value = r.string(path);
    if (!value.startsWith("/")) {
      throw r.refused(path, "a path starting with /");
    }
    return value;
  }

  /** An http:// or https:// URL, or empty (not used). */
  private static String url(SettingReader r, String path) {
    String value = r.string(path).trim();
    if (value.isEmpty()) {
      return value;
    }
    try {
      java.net.URI uri = new java.net.URI(value);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
      if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
        return value;
      }
    } catch (java.net.URISyntaxException notAUri) {
      // refused below
    }
    throw r.refused(path, "an http:// or https:// URL");
  }

  /**
   * The logging variables logback.xml reads, which no configuration file holds: an unknown format or
   * level would silently log nothing or at the wrong level.
   */
  public static void checkLogEnvironment(Map<String, String> env) {
    String format = env.getOrDefault("LOG_FORMAT", "text");
    if (!format.equals("text") && !format.equals("json")) {
      throw new IllegalArgumentException("LOG_FORMAT must be one of json, text, got '" + format + "'");
    }
    String level = env.getOrDefault("SWITCHBOARD_LOG_LEVEL", "INFO");
    if (!LOG_LEVELS.contains(level.toUpperCase(java.util.Locale.ROOT))) {
      throw new IllegalArgumentException("SWITCHBOARD_LOG_LEVEL must be one of "
          + String.join(", ", LOG_LEVELS) + ", got '" + level + "'");
    }
  }

  private static Optional<String> optional(String value) {
    return value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  private static java.net.URL toUrl(String value) {
    try {
      return java.net.URI.create(value).toURL();
    } catch (IllegalArgumentException | java.net.MalformedURLException e) {
      throw new IllegalArgumentException("JWT_JWKS_URL is not a URL: " + value, e);
    }
  }

  private static List<String> commaList(String value) {
    return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
