package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.support.TestCluster.ApiAnswer;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Discovery instead of seed nodes: two nodes with no SEED_NODES find each other through Pekko
 * Management's Cluster Bootstrap (here with the "config" discovery method: the same code path as
 * "kubernetes-api" in deploy/kubernetes, with the pod list replaced by a static one) and form one
 * cluster in which a send reaches a device on the other node.
 */
class ClusterBootstrapTest {
  private final TestCluster cluster = new TestCluster();

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void twoNodesWithoutSeedNodesFormOneClusterThroughBootstrap() {
    List<Integer> management = List.of(TestCluster.freePort(), TestCluster.freePort());
    String endpoints =
        "pekko.discovery.config.services.switchboard-bootstrap-test.endpoints";
    List<Map<String, Object>> contactPoints =
        management.stream()
            .map(port -> Map.<String, Object>of("host", "127.0.0.1", "port", port))
            .toList();
    Switchboard[] nodes = new Switchboard[2];
    for (int i = 0; i < 2; i++) {
      Map<String, Object> overrides = new HashMap<>();
      overrides.put("switchboard.cluster.seed-nodes", "");
      overrides.put("switchboard.cluster.discovery", "config");
      overrides.put("switchboard.cluster.service-name", "switchboard-bootstrap-test");
      overrides.put("switchboard.cluster.required-contact-points", 2);
      overrides.put("switchboard.cluster.management-port", management.get(i));
      overrides.put(endpoints, contactPoints);
      // Short intervals so the test does not wait out production-sized stable margins.
      overrides.put("pekko.management.cluster.bootstrap.contact-point-discovery.interval", "200ms");
      overrides.put(
          "pekko.management.cluster.bootstrap.contact-point-discovery.stable-margin", "1s");
      overrides.put("pekko.management.cluster.bootstrap.contact-point.probe-interval", "200ms");
      // Both contact points are on one host here (on Kubernetes each pod has its own IP).
      overrides.put(
          "pekko.management.cluster.bootstrap.contact-point.filter-on-fallback-port", false);
      nodes[i] = cluster.startNode(overrides);
    }
    cluster.awaitMembersUp(2);

    ApiAnswer view = cluster.get(nodes[1], "/v1/cluster");
    assertEquals(2, view.body().get("members").size());

    WsClient device = cluster.connect(nodes[0], "bootstrapped");
    TestCluster.await("the device is in presence on the other node",
        () -> cluster.get(nodes[1], "/v1/users/bootstrapped/presence").body().get("online").asBoolean());
    ApiAnswer sent = cluster.postJson(nodes[1], "/v1/users/bootstrapped/messages", Map.of("via", "bootstrap"));
    assertEquals(1, sent.body().get("delivered").asInt());
    assertEquals("{\"via\":\"bootstrap\"}", device.nextText());
    device.close();
  }
}
