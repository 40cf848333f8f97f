package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar switchboard.jar} with a bad setting stops at once: exit code 2 and one line on
 * stderr naming the setting, no stack trace and nothing started.
 */
class BadSettingsIT {
  @TempDir Path dir;

  /** Runs the jar with {@code env} added; returns its stderr after checking it refused to start. */
  private String refusal(Map<String, String> env) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String jar = new File(System.getProperty("switchboard.jar", "target/switchboard.jar")).getAbsolutePath();
    Path err = dir.resolve("stderr.txt");
    ProcessBuilder builder = new ProcessBuilder(List.of(java, "-jar", jar))
        .redirectError(err.toFile())
        .redirectOutput(dir.resolve("stdout.txt").toFile());
    builder.environment().putAll(env);
    Process node = builder.start();
    if (!node.waitFor(60, TimeUnit.SECONDS)) {
      node.destroyForcibly();
      throw new AssertionError("the node started with " + env + " instead of refusing");
    }
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    assertEquals(2, node.exitValue(), env + " -> " + stderr);
    assertEquals(1, stderr.strip().lines().count(), "one line: " + stderr);
    assertFalse(stderr.contains("\tat "), "no stack trace: " + stderr);
    return stderr.strip();
  }

  @Test
  void eachBadSettingStopsTheNodeWithOneLineNamingIt() throws Exception {
    String refused = "switchboard: not started: ";
    assertEquals(refused + "WSS_PORT (switchboard.wss.port) must be a whole number from 0 to 65535,"
        + " got '70000'", refusal(Map.of("WSS_PORT", "70000")));
    assertEquals(refused + "WSS_EDGE (switchboard.wss.edge) must be one of netty, pekko, got 'jetty'",
        refusal(Map.of("WSS_EDGE", "jetty")));
    assertEquals(refused + "HANDLER_DATA_TYPE (switchboard.handler.data-type) must be one of binary,"
        + " json, string, got 'xml'", refusal(Map.of("HANDLER_DATA_TYPE", "xml")));
    assertEquals(refused + "API_ASK_TIMEOUT (switchboard.api.ask-timeout) must be a duration above 0s,"
        + " got '-3s'", refusal(Map.of("API_ASK_TIMEOUT", "-3s")));
    assertEquals(refused + "LOG_FORMAT must be one of json, text, got 'xml'",
        refusal(Map.of("LOG_FORMAT", "xml")));
    assertEquals(refused + "PRESENCE_SHARDS (pekko.cluster.sharding.number-of-shards) must be a whole"
        + " number of at least 1, got '0'", refusal(Map.of("PRESENCE_SHARDS", "0")));
    assertEquals(refused + "SEED_NODES entry 'node1' is neither host:port nor"
        + " pekko://switchboard@host:port", refusal(Map.of("SEED_NODES", "node1")));
    assertEquals(refused + "PRESENCE_OFFLINE_GRACE (switchboard.presence.offline-grace) must be a duration"
        + " of at least 0s (such as 500ms, 10s, 2m), got 'soon'",
        refusal(Map.of("PRESENCE_OFFLINE_GRACE", "soon")));
  }
}
