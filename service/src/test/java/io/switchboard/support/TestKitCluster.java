package io.switchboard.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/** {@link ActorTestKit}s in this JVM made into one cluster, for tests of actors across nodes. */
public final class TestKitCluster {
  private TestKitCluster() {}

  /**
   * A node's configuration: {@code settings} over a cluster node on a free loopback port, with
   * Switchboard's serializers and bindings (as its nodes have them).
   */
  public static Config node(String settings) {
    Config shipped = ConfigFactory.parseResources("switchboard-pekko.conf");
    return ConfigFactory.parseString(settings)
        .withFallback(shipped.withOnlyPath("pekko.actor.serializers"))
        .withFallback(shipped.withOnlyPath("pekko.actor.serialization-bindings"))
        .withFallback(ConfigFactory.parseString(
            """
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = 127.0.0.1
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            """));
  }

  /** Joins every node to the first and waits until each sees all of them Up. */
  public static void join(List<ActorTestKit> nodes) {
    Cluster first = Cluster.get(nodes.get(0).system());
    for (ActorTestKit node : nodes) {
      Cluster.get(node.system()).manager().tell(Join.create(first.selfMember().address()));
    }
    nodes.get(0).createTestProbe().awaitAssert(Duration.ofSeconds(30), () -> {
      for (ActorTestKit node : nodes) {
        assertEquals(nodes.size(), Cluster.get(node.system()).state().members().size());
        Cluster.get(node.system()).state().getMembers().forEach(
            member -> assertEquals(MemberStatus.up(), member.status()));
      }
      return null;
    });
  }
}
