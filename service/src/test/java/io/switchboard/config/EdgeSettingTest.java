package io.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code switchboard.wss.edge} (WSS_EDGE): Netty unless set, either edge by name, a clear error else. */
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

  @Test
  void anUnknownEdgeIsRefusedNamingTheVariable() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> edge(Map.of("switchboard.wss.edge", "jetty")));
    assertEquals("WSS_EDGE must be netty or pekko, got jetty", refused.getMessage());
  }
}
