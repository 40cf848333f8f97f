package io.switchboard.cluster;

import java.nio.ByteBuffer;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.UUID;

/**
 * Random (version 4) UUIDs for connection, request and event ids, drawn from one {@link SecureRandom}
 * per thread. {@link UUID#randomUUID()} draws from a single generator shared by the whole JVM, behind
 * one lock: in a connect storm the user entities (an online event id each) and Netty's event loops (a
 * connection id each) queued on that lock, seconds of blocked threads in a 10,000-client storm
 * (BENCHMARKS.md, "Connect storm").
 */
public final class RandomIds {
  private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(RandomIds::generator);

  private RandomIds() {}

  /** A new random UUID, as {@link UUID#toString()} writes it. */
  public static String next() {
    byte[] bytes = new byte[16];
    RANDOM.get().nextBytes(bytes);
    bytes[6] = (byte) ((bytes[6] & 0x0f) | 0x40); // version 4
    bytes[8] = (byte) ((bytes[8] & 0x3f) | 0x80); // the RFC 4122 variant
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    return new UUID(buffer.getLong(), buffer.getLong()).toString();
  }

  private static SecureRandom generator() {
    try {
      // Its own state, seeded once from the system's entropy: nothing shared with other threads.
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }
}
