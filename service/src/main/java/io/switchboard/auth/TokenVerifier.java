package io.switchboard.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.ImmutableSecret;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.switchboard.protocol.Limits;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * Verifies clients' JWTs: HS256 only (a token with {@code alg: none} or any other algorithm is refused),
 * a valid signature, {@code exp} and {@code nbf} when present (with a small clock skew), and a {@code sub}
 * that is a valid user id.
 */
public final class TokenVerifier {

  /** Shortest HS256 secret: RFC 7518 asks for a key at least as long as the hash output. */
  public static final int MIN_SECRET_BYTES = 32;

  /** The outcome of verifying a token: a user, or why not. */
  public sealed interface Result permits Verified, Rejected {}

  public record Verified(AuthenticatedUser user) implements Result {}

  public record Rejected(String reason) implements Result {}

  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

  public TokenVerifier(String secret, Duration clockSkew) {
    byte[] key = secret.getBytes(StandardCharsets.UTF_8);
    if (key.length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException(
          "JWT secret must be at least " + MIN_SECRET_BYTES + " bytes long for HS256");
    }
    processor.setJWSKeySelector(
        new JWSVerificationKeySelector<>(JWSAlgorithm.HS256, new ImmutableSecret<>(key)));
    DefaultJWTClaimsVerifier<SecurityContext> claims =
        new DefaultJWTClaimsVerifier<>(null, new JWTClaimsSet.Builder().build(), Set.of("sub"), null);
    claims.setMaxClockSkew(Math.toIntExact(clockSkew.toSeconds()));
    processor.setJWTClaimsSetVerifier(claims);
  }

  public Result verify(String token) {
    JWTClaimsSet claims;
    try {
      claims = processor.process(token, null);
    } catch (ParseException e) {
      return new Rejected("malformed token");
    } catch (BadJOSEException e) {
      return new Rejected(describe(e));
    } catch (com.nimbusds.jose.JOSEException e) {
      return new Rejected("token could not be verified");
    }
    String subject = claims.getSubject();
    Optional<String> problem = Limits.userIdProblem(subject);
    if (problem.isPresent()) {
      return new Rejected("invalid sub claim: " + problem.get());
    }
    // The claims as they were in the token (times as Unix seconds), for handlers and the app.
    return new Verified(new AuthenticatedUser(subject, claims.toJSONObject()));
  }

  private static String describe(BadJOSEException e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (message.contains("Expired")) {
      return "token expired";
    }
    if (message.contains("before use time")) {
      return "token not yet valid";
    }
    if (message.contains("missing required claims")) {
      return "token has no sub claim";
    }
    if (message.contains("Unsecured") || message.contains("plain")) {
      return "unsigned tokens (alg: none) are refused";
    }
    if (message.contains("not allowed") || message.contains("JWS algorithm")) {
      return "token algorithm is not accepted";
    }
    if (message.contains("Signed JWT rejected") || message.contains("signature")) {
      return "invalid token signature";
    }
    return "invalid token";
  }
}
