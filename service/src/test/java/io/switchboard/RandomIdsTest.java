package io.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.cluster.RandomIds;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RandomIdsTest {
  @Test
  void idsAreVersion4UuidsInTheirUsualForm() {
    for (int i = 0; i < 1_000; i++) {
      String id = RandomIds.next();
      UUID uuid = UUID.fromString(id);
      assertEquals(4, uuid.version(), id);
      assertEquals(2, uuid.variant(), id);
      assertEquals(uuid.toString(), id);
    }
  }

  @Test
  void idsDrawnOnManyThreadsAtOnceAreAllDistinct() {
    Set<String> ids = ConcurrentHashMap.newKeySet();
    IntStream.range(0, 40_000).parallel().forEach(i -> ids.add(RandomIds.next()));
    assertEquals(40_000, ids.size());
  }
}
