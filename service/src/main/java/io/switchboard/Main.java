package io.switchboard;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.switchboard.config.SwitchboardSettings;
import java.time.Duration;

/** {@code java -jar switchboard.jar}: starts one node from the environment and reference.conf. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    Switchboard node;
    try {
      SwitchboardSettings.checkLogEnvironment(System.getenv());
      // In a real process a node that leaves the cluster (downed, or SIGTERM) must end its JVM.
      node = Switchboard.start(ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = on"));
    } catch (IllegalArgumentException refused) {
      // A setting that contradicts another or is out of range: one line naming it, no stack trace.
      System.err.println("switchboard: not started: " + refused.getMessage());
      System.exit(2);
      return;
    } catch (ConfigException unreadable) {
      System.err.println("switchboard: not started: " + unreadable.getMessage()
          + " (every setting and its environment variable: docs/configuration.md)");
      System.exit(2);
      return;
    }
    if (node.usesDevSecrets()) {
      printDevBanner(node);
    }
  }

  private static String tlsLine(Switchboard node) {
    var tls = node.settings().tls();
    if (!tls.enabled()) {
      return "TLS is off";
    }
    if (!tls.certFile().isEmpty() || !tls.keystoreFile().isEmpty()) {
      return "TLS: the configured certificate";
    }
    return "Dev TLS certificate: " + tls.devCertDir() + "/cert.pem (self-signed: trust it in your client)";
  }

  private static void printDevBanner(Switchboard node) {
    String user = node.settings().auth().devUser();
    String token = node.tokenFor(user, Duration.ofHours(24));
    boolean tls = node.settings().tls().enabled();
    String scheme = tls ? "wss" : "ws";
    String wss = scheme + "://localhost:" + node.wssPort() + node.settings().wss().path();
    String api = (node.settings().api().tls() ? "https" : "http") + "://localhost:" + node.apiPort();
    String banner =
        String.join(
            "\n",
            "",
            "================ Switchboard dev node ================",
            "API key:        " + node.apiKey(),
            "Token (" + user + ", 24h): " + token,
            "WebSocket:      " + wss + "?token=" + token,
            tlsLine(node),
            "",
            "Send the demo user a message:",
            "  curl -s -H 'Authorization: Bearer " + node.apiKey() + "' \\",
            "       -H 'Content-Type: application/json' -d '{\"hello\":\"world\"}' \\",
            "       " + api + "/v1/users/" + user + "/messages",
            "Is the demo user online?",
            "  curl -s -H 'Authorization: Bearer " + node.apiKey() + "' " + api + "/v1/users/" + user
                + "/presence",
            "=======================================================",
            "");
    System.out.println(banner);
  }
}
