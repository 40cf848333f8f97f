package io.switchboard.loadtest;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HS256 JWTs for the simulated users: {@code sub} is the user id, valid for a day. */
final class Jwt {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final String HEADER =
      B64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));

  private final Mac mac;

  Jwt(String secret) {
    try {
      mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  String sign(String user) {
    long exp = System.currentTimeMillis() / 1000 + 86_400;
    String claims = "{\"sub\":\"" + user + "\",\"exp\":" + exp + "}";
    String body = HEADER + "." + B64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
    return body + "." + B64.encodeToString(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
  }
}
