package io.switchboard;

import io.switchboard.support.NodeJsTests;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The JavaScript client library's own tests ({@code clients/js}, Node's test runner), against the jar
 * this build made: they start a node with themselves as its request handler and check send/reply,
 * messages, reconnect and queueing, the final closes and the token refresh.
 */
class ClientLibraryIT {
  @Test
  void theClientLibraryPassesItsTestsAgainstARealNode() throws Exception {
    System.out.println(NodeJsTests.run(Path.of("..", "clients", "js"), "test/", Map.of()));
  }
}
