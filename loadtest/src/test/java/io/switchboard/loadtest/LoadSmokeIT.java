package io.switchboard.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.support.RequiredTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The load generator's smoke run, to keep it working (the full runs are not in CI): against both
 * Switchboard (the jar this build made) and the Socket.IO peer, 100 users with two devices each get
 * sends at two rates (on Switchboard's Pekko HTTP edge too), 200 clients storm in, and 200 connect
 * through HAProxy ending TLS. It checks counts, never speed: every message accepted by the API
 * reaches both devices exactly once, and the results files are written.
 */
class LoadSmokeIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static Scenarios scenarios;

  @BeforeAll
  static void installThePeer() throws Exception {
    RequiredTools.assumeInstalled("haproxy", "apt-get install haproxy");
    RequiredTools.assumeInstalled("openssl", "apt-get install openssl");
    RequiredTools.assumeNpmRegistry();
    Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
        .directory(ROOT.resolve("loadtest/peers/socketio").toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    assertTrue(npm.waitFor(5, TimeUnit.MINUTES) && npm.exitValue() == 0, "npm ci of the Socket.IO peer");
    scenarios = new Scenarios(new Servers.Options(
        ROOT.resolve("service/target/switchboard.jar"),
        ROOT.resolve("loadtest/peers/socketio"),
        ROOT.resolve("loadtest/target/smoke-results"),
        false,
        false,
        ROOT.resolve("loadtest/target/tls"),
        List.of("-Xmx512m"),
        "",
        "netty"));
  }

  @Test
  void everyAcceptedSendReachesBothDevicesOnceOnBothServers() throws Exception {
    for (Protocol kind : Protocol.values()) {
      assertEveryAcceptedSendArrivedOnce(scenarios, kind);
      Path file = ROOT.resolve("loadtest/target/smoke-results/throughput-" + kind.label() + ".json");
      assertTrue(Files.exists(file), file + " written");
    }
  }

  @Test
  void theSameHoldsOnSwitchboardsPekkoHttpEdge() throws Exception {
    Scenarios pekkoEdge = new Scenarios(new Servers.Options(
        ROOT.resolve("service/target/switchboard.jar"),
        ROOT.resolve("loadtest/peers/socketio"),
        ROOT.resolve("loadtest/target/smoke-results-pekko-edge"),
        false,
        false,
        ROOT.resolve("loadtest/target/tls"),
        List.of("-Xmx512m"),
        "",
        "pekko"));
    Map<String, Object> result = assertEveryAcceptedSendArrivedOnce(pekkoEdge, Protocol.SWITCHBOARD);
    assertEquals("pekko", result.get("edge"), "the edge recorded: " + result);
    String log = Files.readString(
        ROOT.resolve("loadtest/target/smoke-results-pekko-edge/switchboard-1.log"));
    assertTrue(log.contains("(pekko edge)"), "the node served its sockets on Pekko HTTP:\n" + log);
  }

  /** A throughput run of 100 users at 50 and 100 sends/s for 5 s each, every count checked. */
  private static Map<String, Object> assertEveryAcceptedSendArrivedOnce(
      Scenarios scenarios, Protocol kind) throws Exception {
    Map<String, Object> result =
        scenarios.throughput("throughput", kind, 1, 100, new double[] {50, 100}, 5);
    scenarios.write(result, "");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> steps = (List<Map<String, Object>>) result.get("steps");
    assertTrue(!steps.isEmpty(), kind + " ran a step");
    assertEquals(0L, result.get("warmupLost"), kind + " warm-up");
    for (Map<String, Object> step : steps) {
      assertTrue((long) step.get("sent") > 0, kind + " sent: " + step);
      assertEquals(0L, step.get("errors"), kind + " API errors: " + step);
      assertEquals(step.get("expected"), step.get("received"), kind + " every device got each: " + step);
      assertEquals(0L, step.get("duplicates"), kind + " duplicates: " + step);
    }
    return result;
  }

  @Test
  void aStormOf200ClientsFromTwoProcessesEndsWithAllOpenAndOnline() throws Exception {
    for (Protocol kind : Protocol.values()) {
      Map<String, Object> result = scenarios.storm(kind, 200, 2, 0);
      assertEquals(0, result.get("failed"), kind + ": " + result);
      assertEquals(2, result.get("generatorProcesses"), kind + ": " + result);
      assertTrue((double) result.get("allOnlineSeconds") > 0, kind + ": " + result);
    }
  }

  @Test
  void tlsEndedByHaproxyCarriesTheClientsOfBothServers() throws Exception {
    Path tls = ROOT.resolve("loadtest/target/tls");
    Certificates.ensure(tls);
    Scenarios proxied = new Scenarios(new Servers.Options(
        ROOT.resolve("service/target/switchboard.jar"),
        ROOT.resolve("loadtest/peers/socketio"),
        ROOT.resolve("loadtest/target/smoke-results"),
        true,
        true,
        tls,
        List.of("-Xmx512m"),
        "",
        "netty"));
    for (Protocol kind : Protocol.values()) {
      Map<String, Object> result = proxied.capacity(kind, 1, new int[] {200}, 500);
      assertEquals("haproxy", result.get("tls"), kind + ": " + result);
      @SuppressWarnings("unchecked")
      Map<String, Object> step = ((List<Map<String, Object>>) result.get("steps")).get(0);
      assertEquals(200, step.get("connections"), kind + ": " + step);
      assertEquals(0, step.get("failed"), kind + ": " + step);
      assertTrue((long) step.get("proxyRssBytes") > 0, kind + " HAProxy's memory read: " + step);
    }
  }
}
