package io.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every setting of reference.conf with a bad value: the node refuses to start with one line naming
 * the setting's environment variable and path, what it must be and what it got. Free-text settings
 * (hosts, secrets, file names) are listed apart; every setting is in one list or the other.
 */
class SettingsAuditTest {

  /** A bad value of a setting and the refusal it gets. */
  record Bad(String path, String value, String message) {
    @Override
    public String toString() {
      return path + " = " + value;
    }
  }

  /** Settings any text is valid for (or, seed nodes, checked by {@link SeedNodeTest}). */
  private static final Set<String> FREE_TEXT = Set.of(
      "switchboard.api.host", "switchboard.api.keys", "switchboard.auth.audience",
      "switchboard.auth.dev-user", "switchboard.auth.issuer", "switchboard.auth.jwks-file",
      "switchboard.auth.jwt-secret", "switchboard.cluster.bind-host", "switchboard.cluster.discovery",
      "switchboard.cluster.host", "switchboard.cluster.seed-nodes", "switchboard.cluster.service-name",
      "switchboard.events.webhook-secret", "switchboard.handler.secret", "switchboard.tls.cert-file",
      "switchboard.tls.dev-cert-dir", "switchboard.tls.key-file", "switchboard.tls.keystore-file",
      "switchboard.tls.keystore-password", "switchboard.wss.allowed-origins", "switchboard.wss.host");

  private static final String EXAMPLES = " (such as 500ms, 10s, 2m)";

  static List<Bad> badValues() {
    List<Bad> bad = new ArrayList<>();
    above0(bad, "switchboard.api.ask-timeout", "API_ASK_TIMEOUT (switchboard.api.ask-timeout)");
    atLeast(bad, "switchboard.api.events-buffer", "switchboard.api.events-buffer", 1);
    above0(bad, "switchboard.api.events-heartbeat", "switchboard.api.events-heartbeat");
    size(bad, "switchboard.api.max-body-size", "API_MAX_BODY_SIZE (switchboard.api.max-body-size)");
    port(bad, "switchboard.api.port", "API_PORT (switchboard.api.port)");
    flag(bad, "switchboard.api.tls", "API_TLS (switchboard.api.tls)");
    flag(bad, "switchboard.auth.allow-anonymous", "ALLOW_ANONYMOUS (switchboard.auth.allow-anonymous)");
    atLeast0(bad, "switchboard.auth.clock-skew", "JWT_CLOCK_SKEW (switchboard.auth.clock-skew)");
    above0(bad, "switchboard.auth.jwks-refresh-interval",
        "JWT_JWKS_REFRESH_INTERVAL (switchboard.auth.jwks-refresh-interval)");
    url(bad, "switchboard.auth.jwks-url", "JWT_JWKS_URL (switchboard.auth.jwks-url)");
    bad.add(new Bad("switchboard.cluster-name", "my cluster", "CLUSTER_NAME (switchboard.cluster-name)"
        + " must be letters, digits, - and _, starting with a letter or digit, got 'my cluster'"));
    above0(bad, "switchboard.cluster.down-unreachable-after",
        "DOWN_UNREACHABLE_AFTER (switchboard.cluster.down-unreachable-after)");
    port(bad, "switchboard.cluster.management-port", "MANAGEMENT_PORT (switchboard.cluster.management-port)");
    port(bad, "switchboard.cluster.port", "CLUSTER_PORT (switchboard.cluster.port)");
    atLeast(bad, "switchboard.cluster.required-contact-points",
        "CLUSTER_REQUIRED_CONTACTS (switchboard.cluster.required-contact-points)", 1);
    atLeast(bad, "switchboard.events.webhook-max-attempts",
        "EVENTS_WEBHOOK_MAX_ATTEMPTS (switchboard.events.webhook-max-attempts)", 1);
    atLeast(bad, "switchboard.events.webhook-max-queued", "switchboard.events.webhook-max-queued", 1);
    above0(bad, "switchboard.events.webhook-retry-initial",
        "EVENTS_WEBHOOK_RETRY_INITIAL (switchboard.events.webhook-retry-initial)");
    bad.add(new Bad("switchboard.events.webhook-retry-max", "100ms", "switchboard.events.webhook-retry-max"
        + " must be a duration of at least 500ms, got '100ms'"));
    above0(bad, "switchboard.events.webhook-timeout", "switchboard.events.webhook-timeout");
    url(bad, "switchboard.events.webhook-url", "EVENTS_WEBHOOK_URL (switchboard.events.webhook-url)");
    bad.add(new Bad("switchboard.handler.data-type", "xml", "HANDLER_DATA_TYPE"
        + " (switchboard.handler.data-type) must be one of binary, json, string, got 'xml'"));
    atLeast(bad, "switchboard.handler.max-in-flight", "HANDLER_MAX_IN_FLIGHT (switchboard.handler.max-in-flight)", 1);
    atLeast(bad, "switchboard.handler.max-queued", "HANDLER_MAX_QUEUED (switchboard.handler.max-queued)", 1);
    atLeast(bad, "switchboard.handler.rate-burst", "WS_RATE_BURST (switchboard.handler.rate-burst)", 1);
    bad.add(new Bad("switchboard.handler.rate-limit", "-1", "WS_RATE_LIMIT (switchboard.handler.rate-limit)"
        + " must be a number of at least 0, got '-1'"));
    bad.add(new Bad("switchboard.handler.rate-limit", "fast", "WS_RATE_LIMIT (switchboard.handler.rate-limit)"
        + " must be a number of at least 0, got 'fast'"));
    for (String timeout : List.of("500ms", "31s", "soon")) {
      bad.add(new Bad("switchboard.handler.timeout", timeout, "HANDLER_TIMEOUT (switchboard.handler.timeout)"
          + " must be a duration from 1s to 30s, got '" + timeout + "'"));
    }
    url(bad, "switchboard.handler.url", "HANDLER_URL (switchboard.handler.url)");
    atLeast(bad, "switchboard.presence.max-connections-per-user",
        "MAX_CONNECTIONS_PER_USER (switchboard.presence.max-connections-per-user)", 1);
    atLeast(bad, "switchboard.presence.max-held-sends", "switchboard.presence.max-held-sends", 0);
    atLeast(bad, "switchboard.presence.max-stashed-while-loading",
        "switchboard.presence.max-stashed-while-loading", 1);
    above0(bad, "switchboard.presence.named-rejoin-limit",
        "PRESENCE_NAMED_REJOIN_LIMIT (switchboard.presence.named-rejoin-limit)");
    atLeast0(bad, "switchboard.presence.offline-grace",
        "PRESENCE_OFFLINE_GRACE (switchboard.presence.offline-grace)");
    above0(bad, "switchboard.presence.passivate-after", "switchboard.presence.passivate-after");
    above0(bad, "switchboard.presence.record-gossip-interval", "switchboard.presence.record-gossip-interval");
    above0(bad, "switchboard.presence.record-timeout", "switchboard.presence.record-timeout");
    above0(bad, "switchboard.presence.recovery-settle",
        "PRESENCE_RECOVERY_SETTLE (switchboard.presence.recovery-settle)");
    above0(bad, "switchboard.presence.register-retry", "switchboard.presence.register-retry");
    above0(bad, "switchboard.presence.rejoin-window", "switchboard.presence.rejoin-window");
    above0(bad, "switchboard.presence.stopped-check", "switchboard.presence.stopped-check");
    atLeast0(bad, "switchboard.shutdown.drain-timeout", "switchboard.shutdown.drain-timeout");
    flag(bad, "switchboard.tls.enabled", "TLS (switchboard.tls.enabled)");
    atLeast(bad, "switchboard.wss.accept-backlog", "WS_ACCEPT_BACKLOG (switchboard.wss.accept-backlog)", 1);
    bad.add(new Bad("switchboard.wss.edge", "jetty",
        "WSS_EDGE (switchboard.wss.edge) must be one of netty, pekko, got 'jetty'"));
    above0(bad, "switchboard.wss.handshake-timeout", "WS_HANDSHAKE_TIMEOUT (switchboard.wss.handshake-timeout)");
    above0(bad, "switchboard.wss.idle-timeout", "WS_IDLE_TIMEOUT (switchboard.wss.idle-timeout)");
    atLeast(bad, "switchboard.wss.io-threads", "WS_IO_THREADS (switchboard.wss.io-threads)", 0);
    atLeast(bad, "switchboard.wss.max-connections", "WS_MAX_CONNECTIONS (switchboard.wss.max-connections)", 1);
    size(bad, "switchboard.wss.max-message-size", "WS_MAX_MESSAGE_SIZE (switchboard.wss.max-message-size)");
    size(bad, "switchboard.wss.outgoing-buffer-limit",
        "WS_OUTGOING_BUFFER_LIMIT (switchboard.wss.outgoing-buffer-limit)");
    atLeast(bad, "switchboard.wss.outgoing-queue-limit",
        "WS_OUTGOING_QUEUE_LIMIT (switchboard.wss.outgoing-queue-limit)", 1);
    bad.add(new Bad("switchboard.wss.path", "socket",
        "switchboard.wss.path must be a path starting with /, got 'socket'"));
    above0(bad, "switchboard.wss.ping-interval", "WS_PING_INTERVAL (switchboard.wss.ping-interval)");
    port(bad, "switchboard.wss.port", "WSS_PORT (switchboard.wss.port)");
    atLeast(bad, "pekko.cluster.sharding.number-of-shards",
        "PRESENCE_SHARDS (pekko.cluster.sharding.number-of-shards)", 1);
    return bad;
  }

  private static void above0(List<Bad> bad, String path, String name) {
    bad.add(new Bad(path, "-3s", name + " must be a duration above 0s, got '-3s'"));
    bad.add(new Bad(path, "0s", name + " must be a duration above 0s, got '0s'"));
    bad.add(new Bad(path, "soon", name + " must be a duration above 0s" + EXAMPLES + ", got 'soon'"));
  }

  private static void atLeast0(List<Bad> bad, String path, String name) {
    bad.add(new Bad(path, "-3s", name + " must be a duration of at least 0s, got '-3s'"));
    bad.add(new Bad(path, "soon", name + " must be a duration of at least 0s" + EXAMPLES + ", got 'soon'"));
  }

  private static void atLeast(List<Bad> bad, String path, String name, int min) {
    String rule = " must be a whole number of at least " + min;
    bad.add(new Bad(path, String.valueOf(min - 1), name + rule + ", got '" + (min - 1) + "'"));
    bad.add(new Bad(path, "many", name + rule + ", got 'many'"));
    bad.add(new Bad(path, "1.5", name + rule + ", got '1.5'"));
  }

  private static void port(List<Bad> bad, String path, String name) {
    for (String value : List.of("70000", "-1", "https")) {
      bad.add(new Bad(path, value, name + " must be a whole number from 0 to 65535, got '" + value + "'"));
    }
  }

  private static void flag(List<Bad> bad, String path, String name) {
    bad.add(new Bad(path, "maybe", name + " must be true or false, got 'maybe'"));
  }

  private static void size(List<Bad> bad, String path, String name) {
    for (String value : List.of("0", "lots", "3GiB")) {
      bad.add(new Bad(path, value, name + " must be a size from 1 byte to 2GiB (such as 64KiB, 1MiB), got '"
          + value + "'"));
    }
  }

  private static void url(List<Bad> bad, String path, String name) {
    for (String value : List.of("localhost:9000/hook", "ftp://example.com/x", "http://")) {
      bad.add(new Bad(path, value, name + " must be an http:// or https:// URL, got '" + value + "'"));
    }
  }

  private static SwitchboardSettings settings(Map<String, String> overrides) {
    // Not defaultReference(), which the test runs' system properties override; the one system
    // property reference.conf uses is given, and the Pekko setting the node checks.
    Config config = ConfigFactory.parseMap(overrides)
        .withFallback(ConfigFactory.parseResources("reference.conf"))
        .withFallback(ConfigFactory.parseMap(Map.of(
            "java.io.tmpdir", System.getProperty("java.io.tmpdir"),
            "pekko.cluster.sharding.number-of-shards", "100")))
        .resolve();
    return SwitchboardSettings.from(config);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badValues")
  void aBadValueIsRefusedInOneLineNamingTheSetting(Bad bad) {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> settings(Map.of(bad.path(), bad.value())));
    assertEquals(bad.message(), refused.getMessage());
  }

  @Test
  void everySettingHasBadValuesOrIsFreeText() {
    Config reference = ConfigFactory.parseResources("reference.conf").withOnlyPath("switchboard")
        .resolve(ConfigResolveOptions.noSystem().setAllowUnresolved(true));
    Set<String> covered = new TreeSet<>(FREE_TEXT);
    badValues().forEach(bad -> covered.add(bad.path()));
    List<String> missing = reference.entrySet().stream().map(Map.Entry::getKey)
        .filter(path -> !covered.contains(path)).sorted().toList();
    assertEquals(List.of(), missing, "settings with neither bad values in this table nor free text");
  }

  @Test
  void theDefaultsAreAccepted() {
    assertEquals(SwitchboardSettings.Edge.NETTY, settings(Map.of()).wss().edge());
  }

  @Test
  void contradictingSettingsAreRefusedNamingBoth() {
    assertEquals("WS_PING_INTERVAL (switchboard.wss.ping-interval, PT1M) must be below"
            + " WS_IDLE_TIMEOUT (switchboard.wss.idle-timeout, PT1M)",
        assertThrows(IllegalArgumentException.class,
            () -> settings(Map.of("switchboard.wss.ping-interval", "60s"))).getMessage());
    assertEquals("HANDLER_MAX_QUEUED (switchboard.handler.max-queued, 8) must be at least"
            + " HANDLER_MAX_IN_FLIGHT (switchboard.handler.max-in-flight, 16)",
        assertThrows(IllegalArgumentException.class,
            () -> settings(Map.of("switchboard.handler.max-queued", "8"))).getMessage());
  }

  @Test
  void unknownLogFormatsAndLevelsAreRefused() {
    SwitchboardSettings.checkLogEnvironment(Map.of("LOG_FORMAT", "json", "SWITCHBOARD_LOG_LEVEL", "debug"));
    assertEquals("LOG_FORMAT must be one of json, text, got 'xml'", assertThrows(
        IllegalArgumentException.class, () -> SwitchboardSettings.checkLogEnvironment(
            Map.of("LOG_FORMAT", "xml"))).getMessage());
    assertEquals("SWITCHBOARD_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, OFF, got 'loud'",
        assertThrows(IllegalArgumentException.class, () -> SwitchboardSettings.checkLogEnvironment(
            Map.of("SWITCHBOARD_LOG_LEVEL", "loud"))).getMessage());
  }

}
