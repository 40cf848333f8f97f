package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The JavaScript client library's own tests ({@code clients/js}, Node's test runner), against the jar
 * this build made: they start a node with themselves as its request handler and check send/reply,
 * messages, reconnect and queueing, the final closes and the token refresh.
 */
class ClientLibraryIT {
  private static final Path CLIENT = Path.of("..", "clients", "js");

  private static String run(List<String> command, long minutes) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).directory(CLIENT.toFile()).redirectErrorStream(true);
    builder.environment().put("SWITCHBOARD_JAR",
        new File(System.getProperty("switchboard.jar", "target/switchboard.jar")).getAbsolutePath());
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(minutes, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish: " + output);
    }
    assertEquals(0, process.exitValue(), String.join(" ", command) + " failed:\n" + output);
    return output;
  }

  @Test
  void theClientLibraryPassesItsTestsAgainstARealNode() throws Exception {
    run(List.of("npm", "install", "--no-audit", "--no-fund"), 5);
    String output = run(List.of("node", "--test", "test/"), 5);
    System.out.println(output);
  }
}
