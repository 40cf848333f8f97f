package io.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.switchboard.presence.UserPresence;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code switchboard.presence}: the defaults are what the user entities use when started by hand, and a
 * node refuses to start, naming the settings, when the presence timings contradict each other or the
 * API's ask timeout.
 */
class PresenceSettingsTest {

  private static SwitchboardSettings settings(Map<String, String> overrides) {
    // Not defaultReference(), which the test runs' system properties override; the one system
    // property reference.conf uses is given.
    Config config = ConfigFactory.parseMap(overrides)
        .withFallback(ConfigFactory.parseResources("reference.conf"))
        .withFallback(ConfigFactory.parseMap(
            Map.of("java.io.tmpdir", System.getProperty("java.io.tmpdir"))))
        .resolve();
    return SwitchboardSettings.from(config);
  }

  private static String refusal(Map<String, String> overrides) {
    return assertThrows(IllegalArgumentException.class, () -> settings(overrides)).getMessage();
  }

  @Test
  void theDefaultsAreTheLimitsOfAnEntityStartedByHand() {
    assertEquals(UserPresence.Limits.DEFAULTS, settings(Map.of()).presence().limits());
  }

  @Test
  void aNamedRejoinLimitNotAboveTheAskTimeoutIsRefused() {
    assertEquals(
        "PRESENCE_NAMED_REJOIN_LIMIT (switchboard.presence.named-rejoin-limit, PT10S) must be above"
            + " API_ASK_TIMEOUT (switchboard.api.ask-timeout, PT10S)",
        refusal(Map.of("switchboard.presence.named-rejoin-limit", "10s")));
    assertEquals(
        "PRESENCE_NAMED_REJOIN_LIMIT (switchboard.presence.named-rejoin-limit, PT15S) must be above"
            + " API_ASK_TIMEOUT (switchboard.api.ask-timeout, PT20S)",
        refusal(Map.of("switchboard.api.ask-timeout", "20s")));
  }

  @Test
  void aRecoverySettleNotBelowTheAskTimeoutIsRefused() {
    assertEquals(
        "PRESENCE_RECOVERY_SETTLE (switchboard.presence.recovery-settle, PT5S) must be below"
            + " API_ASK_TIMEOUT (switchboard.api.ask-timeout, PT5S)",
        refusal(Map.of("switchboard.api.ask-timeout", "5s")));
  }

  @Test
  void aRecordTimeoutNotBelowTheAskTimeoutIsRefused() {
    assertEquals(
        "switchboard.presence.record-timeout (PT10S) must be below"
            + " API_ASK_TIMEOUT (switchboard.api.ask-timeout, PT10S)",
        refusal(Map.of("switchboard.presence.record-timeout", "10s")));
  }

  @Test
  void aRejoinWindowNotBelowTheAskTimeoutIsRefused() {
    assertEquals(
        "switchboard.presence.rejoin-window (PT12S) must be below"
            + " API_ASK_TIMEOUT (switchboard.api.ask-timeout, PT10S)",
        refusal(Map.of("switchboard.presence.rejoin-window", "12s")));
  }

  @Test
  void aRegisterRetryNotBelowTheRecoverySettleIsRefused() {
    assertEquals(
        "switchboard.presence.register-retry (PT5S) must be below"
            + " PRESENCE_RECOVERY_SETTLE (switchboard.presence.recovery-settle, PT5S)",
        refusal(Map.of("switchboard.presence.register-retry", "5s")));
  }
}
