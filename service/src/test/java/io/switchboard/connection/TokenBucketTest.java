package io.switchboard.connection;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void aFullBucketAllowsTheBurstThenTheRate() {
    TokenBucket bucket = new TokenBucket(10, 3, 0);
    assertTrue(bucket.tryTake(0));
    assertTrue(bucket.tryTake(0));
    assertTrue(bucket.tryTake(0));
    assertFalse(bucket.tryTake(0), "the burst is spent");
    assertFalse(bucket.tryTake(SECOND / 20), "half a token after 50 ms at 10/s");
    assertTrue(bucket.tryTake(SECOND / 10), "one token after 100 ms");
    assertFalse(bucket.tryTake(SECOND / 10));
  }

  @Test
  void itRefillsNoFurtherThanTheBurst() {
    TokenBucket bucket = new TokenBucket(10, 2, 0);
    long later = 60 * SECOND;
    assertTrue(bucket.tryTake(later));
    assertTrue(bucket.tryTake(later));
    assertFalse(bucket.tryTake(later));
  }

  @Test
  void zeroMeansUnlimited() {
    TokenBucket bucket = new TokenBucket(0, 1, 0);
    for (int i = 0; i < 1000; i++) {
      assertTrue(bucket.tryTake(0));
    }
  }
}
