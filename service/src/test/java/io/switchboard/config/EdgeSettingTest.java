package io.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code switchboard.wss.edge} (WSS_EDGE): Netty unless set, either edge by name ({@link SettingsAuditTest}: others refused). */
class EdgeSettingTest {

  private static SwitchboardSettings.Edge edge(Map<String, String> overrides) {
    // Not defaultReference(), which -Dswitchboard.wss.edge=... (the pekko-edge test runs) overrides;
    // the one system property reference.conf uses is given.
    Config config = ConfigFactory.parseMap(overrides)
        .withFallback(ConfigFactory.parseResources("reference.conf"))
        .withFallback(ConfigFactory.parseMap(
            Map.of("java.io.tmpdir", System.getProperty("java.io.tmpdir"))))
        .resolve();
    return SwitchboardSettings.from(config).wss().edge();
  }

  @Test
  void nettyIsTheDefaultAndEitherEdgeCanBeChosenInAnyCase() {
    assertEquals(SwitchboardSettings.Edge.NETTY, edge(Map.of()));
    assertEquals(SwitchboardSettings.Edge.PEKKO, edge(Map.of("switchboard.wss.edge", "Pekko")));
    assertEquals(SwitchboardSettings.Edge.NETTY, edge(Map.of("switchboard.wss.edge", "netty")));
  }
}
