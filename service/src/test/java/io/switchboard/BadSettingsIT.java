package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    assertEquals("switchboard: not started: WSS_PORT must be a port from 0 to 65535, got 70000",
        refusal(Map.of("WSS_PORT", "70000")));
    assertEquals("switchboard: not started: WSS_EDGE must be netty or pekko, got jetty",
        refusal(Map.of("WSS_EDGE", "jetty")));
    assertEquals("switchboard: not started: HANDLER_DATA_TYPE must be json, string or binary, got 'xml'",
        refusal(Map.of("HANDLER_DATA_TYPE", "xml")));
    assertEquals("switchboard: not started: SEED_NODES entry 'node1' is neither host:port nor"
        + " pekko://switchboard@host:port", refusal(Map.of("SEED_NODES", "node1")));
    String duration = refusal(Map.of("PRESENCE_OFFLINE_GRACE", "soon"));
    assertTrue(duration.contains("offline-grace") && duration.contains("soon"), duration);
  }
}
