package io.switchboard.protocol;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How Switchboard signs what it POSTs to the app (handler requests and presence webhooks), and how the
 * app checks it. Headers: {@value #TIMESTAMP_HEADER} (Unix seconds) and {@value #SIGNATURE_HEADER}
 * {@code v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>}. Signing the timestamp with the
 * body lets the app refuse replays: reject a timestamp older than a few minutes.
 */
public final class Signatures {
  public static final String TIMESTAMP_HEADER = "X-Switchboard-Timestamp";
  public static final String SIGNATURE_HEADER = "X-Switchboard-Signature";

  private Signatures() {}

  /** The {@value #SIGNATURE_HEADER} value for {@code body} sent at {@code timestamp}. */
  public static String sign(String secret, long timestamp, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
      return "v1=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** True when {@code signature} is the valid signature of {@code body} at {@code timestamp}. */
  public static boolean verify(String secret, long timestamp, byte[] body, String signature) {
    byte[] expected = sign(secret, timestamp, body).getBytes(StandardCharsets.UTF_8);
    return signature != null
        && MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.UTF_8));
  }
}
