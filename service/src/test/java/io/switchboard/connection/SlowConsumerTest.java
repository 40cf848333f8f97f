package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.Switchboard;
import io.switchboard.support.RawSocket;
import io.switchboard.support.TestCluster;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that never reads: once the kernel's buffers are full, the node queues at most
 * {@code outgoing-queue-limit} messages for it, then closes it with 1013, and later sends do not count
 * it in {@code delivered}.
 */
class SlowConsumerTest {
  private static TestCluster cluster;
  private static Switchboard node;

  @BeforeAll
  static void start() {
    cluster = new TestCluster();
    // A byte limit so large that only the message limit can close the connection in this test.
    node = cluster.startNode(Map.of(
        "switchboard.wss.outgoing-queue-limit", 50,
        "switchboard.wss.outgoing-buffer-limit", "64MiB"));
    cluster.awaitMembersUp(1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void aClientThatNeverReadsIsClosedWith1013AtTheQueueLimitAndNoLongerCounted() throws Exception {
    try (RawSocket silent = RawSocket.upgrade(cluster.tls(), node.wssPort(),
        Map.of("Authorization", "Bearer " + cluster.token("never-reads")))) {
      TestCluster.await("registered",
          () -> cluster.get(node, "/v1/users/never-reads/presence").body().get("connections").size() == 1);
      String payload = "x".repeat(200);
      int sent = 0;
      // 200,000 sends of 200 bytes stay under 64 MiB: only the message limit (50) ends the loop early.
      while (sent < 200_000
          && node.send("never-reads", payload).toCompletableFuture().get(30, TimeUnit.SECONDS) == 1) {
        sent++;
      }
      TestCluster.await("the connection left presence",
          () -> cluster.get(node, "/v1/users/never-reads/presence").body().get("connections").size() == 0);
      assertEquals(0, node.send("never-reads", payload).toCompletableFuture().get(30, TimeUnit.SECONDS));
      // Behind everything the kernel held: the close frame.
      assertEquals(1013, silent.awaitClose(), "after " + sent + " sends");
    }
  }
}
