package io.switchboard.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.Switchboard;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** PRESENCE_OFFLINE_GRACE on a real node: a phone that drops and comes back makes no events. */
class OfflineGraceTest {

  @Test
  void aReconnectInsideTheGraceMakesNoEventsAndOneAfterItMakesOfflineThenOnline() {
    try (TestCluster cluster = new TestCluster()) {
      Switchboard node = cluster.startNode(Map.of("switchboard.presence.offline-grace", "3s"));
      cluster.awaitMembersUp(1);
      List<PresenceEvent.Kind> kinds = new CopyOnWriteArrayList<>();
      node.presenceListener(event -> {
        if (event.userId().equals("phone")) {
          kinds.add(event.kind());
        }
      });

      WsClient first = cluster.connect(node, "phone");
      TestCluster.await("online", () -> kinds.equals(List.of(PresenceEvent.Kind.online)));
      first.close();
      JsonNode during = cluster.get(node, "/v1/users/phone/presence").body();
      assertTrue(during.get("online").asBoolean(), "online during the grace");
      assertTrue(during.get("inGrace").asBoolean());
      assertEquals(0, during.get("connections").size());

      WsClient again = cluster.connect(node, "phone");
      TestCluster.await("back", () -> cluster.get(node, "/v1/users/phone/presence").body()
          .get("connections").size() == 1);
      assertFalse(cluster.get(node, "/v1/users/phone/presence").body().get("inGrace").asBoolean());
      again.close();

      // The only events of the whole dance: the first online and, after the grace, one offline.
      TestCluster.await("offline after the grace",
          () -> kinds.equals(List.of(PresenceEvent.Kind.online, PresenceEvent.Kind.offline)));
      WsClient later = cluster.connect(node, "phone");
      TestCluster.await("online again", () -> kinds.equals(List.of(
          PresenceEvent.Kind.online, PresenceEvent.Kind.offline, PresenceEvent.Kind.online)));
      later.close();
    }
  }
}
