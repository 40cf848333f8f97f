package io.switchboard.handler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.Switchboard;
import io.switchboard.support.RequiredTools;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The README's example app ({@code examples/handler_app.py}) behind a real node: it must work as shown. */
class ExampleAppTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theExampleAppAnswersClientMessagesAndReceivesPresenceWebhooks() throws Exception {
    Path script = Path.of("..", "examples", "handler_app.py").toAbsolutePath().normalize();
    assertEquals(true, Files.isRegularFile(script), "example app at " + script);
    RequiredTools.assumeInstalled("python3", "apt-get install python3");
    int port = TestCluster.freePort();
    ProcessBuilder builder =
        new ProcessBuilder("python3", script.toString(), Integer.toString(port)).redirectErrorStream(true);
    builder.environment().put("HANDLER_SECRET", "example-handler-secret");
    builder.environment().put("EVENTS_WEBHOOK_SECRET", "example-webhook-secret");
    Process app = builder.start();
    List<String> output = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader lines =
          new BufferedReader(new InputStreamReader(app.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null) {
          output.add(line);
        }
      } catch (java.io.IOException e) {
        // the app was stopped
      }
    });
    reader.setDaemon(true);
    reader.start();
    try (TestCluster cluster = new TestCluster()) {
      TestCluster.await("the example app listens", () -> output.stream().anyMatch(l -> l.contains("example app on")));
      Switchboard node =
          cluster.startNode(Map.of(
              "switchboard.handler.url", "http://127.0.0.1:" + port + "/handle",
              "switchboard.handler.secret", "example-handler-secret",
              "switchboard.events.webhook-url", "http://127.0.0.1:" + port + "/events",
              "switchboard.events.webhook-secret", "example-webhook-secret"));
      cluster.awaitMembersUp(1);
      WsClient client = cluster.connect(node, "pat");
      client.send("{\"hello\":\"app\"}");
      JsonNode reply = JSON.readTree(client.nextText());
      assertEquals("app", reply.get("echo").get("hello").asText());
      assertEquals("pat", reply.get("user").asText());
      client.close();
      TestCluster.await("the app printed pat's online and offline events",
          () -> output.stream().anyMatch(l -> l.startsWith("presence: pat online seq "))
              && output.stream().anyMatch(l -> l.startsWith("presence: pat offline seq ")));
    } finally {
      app.destroy();
    }
  }
}
