package io.switchboard.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Skips a test, with one line naming the tool and how to install it, when the machine lacks a tool the
 * test needs. {@link SkipReport} lists every such skip at the end of the run; {@code .ci/run} installs
 * all of them and fails if anything was skipped.
 */
public final class RequiredTools {
  private RequiredTools() {}

  /** Skips unless {@code command} is an executable on the PATH (or an executable path). */
  public static void assumeInstalled(String command, String install) {
    String where = command.contains(File.separator) ? "not found at " + command : "not found on PATH";
    assumeTrue(installed(command), "needs " + command + ", " + where + " (" + install + ")");
  }

  /** Skips unless npm is installed and its registry answers (npm install needs it). */
  public static void assumeNpmRegistry() {
    assumeInstalled("npm", "apt-get install npm");
    assumeTrue(npmRegistryAnswers(), "needs the npm registry, which did not answer `npm ping` in 30 s");
  }

  /** Whether {@code command} (a name looked up on the PATH, or a path) is an executable file. */
  public static boolean installed(String command) {
    if (command.contains(File.separator)) {
      return Files.isExecutable(Path.of(command));
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  private static boolean npmRegistryAnswers() {
    try {
      Process ping =
          new ProcessBuilder(List.of("npm", "ping"))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!ping.waitFor(30, TimeUnit.SECONDS)) {
        ping.destroyForcibly();
        return false;
      }
      return ping.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
