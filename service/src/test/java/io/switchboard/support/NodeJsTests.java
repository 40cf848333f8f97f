package io.switchboard.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a folder's JavaScript tests (Node's test runner) against the jar this build made: {@code npm
 * install}, then {@code node --test}, failing with their whole output; skipped where Node, npm or the
 * npm registry is missing.
 */
public final class NodeJsTests {
  private NodeJsTests() {}

  /** Installs {@code folder}'s packages and runs its tests with {@code env} added; returns their output. */
  public static String run(Path folder, String tests, Map<String, String> env) throws Exception {
    RequiredTools.assumeInstalled("node", "apt-get install nodejs");
    RequiredTools.assumeNpmRegistry();
    run(folder, List.of("npm", "install", "--no-audit", "--no-fund"), env, 5);
    return run(folder, List.of("node", "--test", tests), env, 5);
  }

  private static String run(Path folder, List<String> command, Map<String, String> env, long minutes)
      throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(folder.toFile()).redirectErrorStream(true);
    builder.environment().put("SWITCHBOARD_JAR",
        new File(System.getProperty("switchboard.jar", "target/switchboard.jar")).getAbsolutePath());
    builder.environment().putAll(env);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(minutes, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish: " + output);
    }
    assertEquals(0, process.exitValue(), String.join(" ", command) + " failed:\n" + output);
    return output;
  }
}
