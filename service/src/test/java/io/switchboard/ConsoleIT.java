package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.support.NodeJsTests;
import io.switchboard.support.RequiredTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operator's console in headless Chromium ({@code src/test/browser}, playwright-core driving
 * Debian's Chromium, which {@code .ci/run} installs): sign in, a user's browser page (the client
 * library's example) comes online, a message sent from the console arrives there, the offline event
 * follows. The screenshots stay in {@code target/console-screenshots/}.
 */
class ConsoleIT {
  private static final Path SHOTS = Path.of("target", "console-screenshots").toAbsolutePath();

  @Test
  void anOperatorSeesAUserComeAndGoAndSendsThemAMessage() throws Exception {
    String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
    RequiredTools.assumeInstalled(chromium, "apt-get install chromium, or set CHROMIUM");
    System.out.println(NodeJsTests.run(Path.of("src", "test", "browser"), "console.test.js",
        Map.of("SCREENSHOTS", SHOTS.toString(), "CHROMIUM", chromium)));
    for (String shot : new String[] {"1-sign-in.png", "2-online-and-sent.png", "4-offline.png"}) {
      assertTrue(Files.size(SHOTS.resolve(shot)) > 10_000, shot + " was taken");
    }
  }
}
