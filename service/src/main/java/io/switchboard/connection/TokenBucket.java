package io.switchboard.connection;

/**
 * A token bucket: {@code burst} tokens at most, refilled at {@code perSecond}; each message takes one.
 * Used by one actor at a time, so not thread-safe. {@code perSecond} 0 means unlimited.
 */
final class TokenBucket {
  private final double perSecond;
  private final double burst;
  private double tokens;
  private long last;

  TokenBucket(double perSecond, int burst, long nowNanos) {
    this.perSecond = perSecond;
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
    this.last = nowNanos;
  }

  /** Takes a token if there is one. */
  boolean tryTake(long nowNanos) {
    if (perSecond <= 0) {
      return true;
    }
    tokens = Math.min(burst, tokens + (nowNanos - last) / 1e9 * perSecond);
    last = nowNanos;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
