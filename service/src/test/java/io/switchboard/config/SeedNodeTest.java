package io.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code SEED_NODES}: host:port and Pekko's pekko://name@host:port both work; anything else is refused. */
class SeedNodeTest {

  @Test
  void hostPortAndPekkoAddressesNameTheSameSeed() {
    assertEquals(
        List.of(new SeedNode("node1", 25520), new SeedNode("10.0.0.2", 25521), new SeedNode("::1", 25522)),
        SeedNode.parseAll(
            " node1:25520 ,pekko://switchboard@10.0.0.2:25521, [::1]:25522,", "switchboard"));
    assertEquals(List.of(), SeedNode.parseAll("", "switchboard"));
  }

  @Test
  void aPekkoAddressOfAnotherClusterIsRefusedNamingBothNames() {
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> SeedNode.parseAll("pekko://other@node1:25520", "switchboard"));
    assertEquals(
        "SEED_NODES entry 'pekko://other@node1:25520' names the cluster 'other', but this node's"
            + " CLUSTER_NAME is 'switchboard'",
        refused.getMessage());
  }

  @Test
  void anythingElseIsRefusedWithTheFormsItMayTake() {
    for (String bad : List.of("node1", "node1:", ":25520", "node1:port", "akka://switchboard@node1:25520",
        "node1:25520:1", "pekko.tcp://switchboard@node1:25520")) {
      IllegalArgumentException refused =
          assertThrows(IllegalArgumentException.class, () -> SeedNode.parseAll(bad, "switchboard"), bad);
      assertEquals(
          "SEED_NODES entry '" + bad + "' is neither host:port nor pekko://switchboard@host:port",
          refused.getMessage());
    }
    IllegalArgumentException port =
        assertThrows(IllegalArgumentException.class, () -> SeedNode.parseAll("node1:70000", "switchboard"));
    assertEquals("SEED_NODES entry 'node1:70000' has port 70000, outside 1-65535", port.getMessage());
  }
}
