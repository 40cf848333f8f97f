package io.switchboard.auth;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.switchboard.protocol.Limits;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies clients' JWTs: a valid signature by one of the configured keys, {@code exp} and {@code nbf}
 * when present (with a small clock skew), {@code aud} and {@code iss} when configured, and a
 * {@code sub} that is a valid user id.
 *
 * <p>Keys: HS256 secrets (several at once, for rotation) and, optionally, RSA and EC public keys from
 * a JWKS file or URL for RS256 and ES256 (the URL's set is cached and fetched again when a token names
 * an unknown {@code kid}, at most twice per {@code jwksRefreshInterval}). A key is chosen by the token's
 * {@code kid} and by its type matching the algorithm, never by {@code alg} alone: an HS256 token is
 * checked against the secrets only, so one "signed" with an RSA public key as HMAC secret fails.
 * {@code alg: none} and every other algorithm are refused.
 *
 * <p>The common token, HS256 with neither {@code kid} nor {@code crit}, has its signature checked here
 * against each secret with a {@code Mac} kept per thread, and its claims by the same claims verifier;
 * every other token goes through Nimbus's processor. Through the processor each token cost a provider
 * lookup for a new {@code Mac} and a key selection, about a quarter of a connect storm's event-loop time.
 */
public final class TokenVerifier {

  /** Shortest HS256 secret: RFC 7518 asks for a key at least as long as the hash output. */
  public static final int MIN_SECRET_BYTES = 32;

  /** Where the public keys come from, if anywhere, and the claims a token must carry. */
  public record Options(
      Optional<Path> jwksFile,
      Optional<URL> jwksUrl,
      Duration jwksRefreshInterval,
      Optional<String> audience,
      Optional<String> issuer) {
    public static Options none() {
      return new Options(Optional.empty(), Optional.empty(), Duration.ofSeconds(30), Optional.empty(),
          Optional.empty());
    }
  }

  /** The outcome of verifying a token: a user, or why not. */
  public sealed interface Result permits Verified, Rejected {}

  public record Verified(AuthenticatedUser user) implements Result {}

  public record Rejected(String reason) implements Result {}

  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
  private final DefaultJWTClaimsVerifier<SecurityContext> claimsVerifier;
  /** The HS256 secrets, tried in turn by the common path. */
  private final List<SecretKeySpec> hmacKeys = new ArrayList<>();
  private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(TokenVerifier::newHmac);

  /** HS256 with one secret, no public keys, no aud/iss. */
  public TokenVerifier(String secret, Duration clockSkew) {
    this(List.of(secret), Options.none(), clockSkew);
  }

  public TokenVerifier(List<String> secrets, Options options, Duration clockSkew) {
    List<JWK> octets = new ArrayList<>();
    for (String secret : secrets) {
      byte[] key = secret.getBytes(StandardCharsets.UTF_8);
      if (key.length < MIN_SECRET_BYTES) {
        throw new IllegalArgumentException(
            "JWT secret must be at least " + MIN_SECRET_BYTES + " bytes long for HS256");
      }
      octets.add(new OctetSequenceKey.Builder(key).build());
      hmacKeys.add(new SecretKeySpec(key, HMAC));
    }
    JWKSource<SecurityContext> secretKeys = new ImmutableJWKSet<>(new JWKSet(octets));
    JWKSource<SecurityContext> publicKeys = publicKeys(options);
    Set<JWSAlgorithm> algorithms =
        publicKeys == null
            ? Set.of(JWSAlgorithm.HS256)
            : Set.of(JWSAlgorithm.HS256, JWSAlgorithm.RS256, JWSAlgorithm.ES256);
    // The selector matches keys by the algorithm's key type (oct for HS256, RSA, EC) and the kid.
    JWKSource<SecurityContext> keys = (selector, context) -> {
      List<JWK> found = new ArrayList<>(secretKeys.get(selector, context));
      if (publicKeys != null && needsPublicKey(selector)) {
        found.addAll(publicKeys.get(selector, context));
      }
      return found;
    };
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, keys));
    JWTClaimsSet.Builder exact = new JWTClaimsSet.Builder();
    options.issuer().ifPresent(exact::issuer);
    DefaultJWTClaimsVerifier<SecurityContext> claims =
        new DefaultJWTClaimsVerifier<>(
            // (a HashSet: the verifier asks it contains(null), which Set.of refuses)
            options.audience().map(a -> new HashSet<>(List.of(a))).orElse(null),
            exact.build(),
            new HashSet<>(List.of("sub")),
            null);
    claims.setMaxClockSkew(Math.toIntExact(clockSkew.toSeconds()));
    processor.setJWTClaimsSetVerifier(claims);
    claimsVerifier = claims;
  }

  private static final String HMAC = "HmacSHA256";

  private static Mac newHmac() {
    try {
      return Mac.getInstance(HMAC);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no " + HMAC, e);
    }
  }

  private static boolean needsPublicKey(JWKSelector selector) {
    return !selector.getMatcher().getKeyTypes().contains(com.nimbusds.jose.jwk.KeyType.OCT);
  }

  private static JWKSource<SecurityContext> publicKeys(Options options) {
    if (options.jwksFile().isPresent()) {
      try {
        return new ImmutableJWKSet<>(JWKSet.load(options.jwksFile().get().toFile()).toPublicJWKSet());
      } catch (IOException | ParseException e) {
        throw new IllegalArgumentException("JWT_JWKS_FILE " + options.jwksFile().get() + ": " + e.getMessage(), e);
      }
    }
    return options.jwksUrl()
        .<JWKSource<SecurityContext>>map(url ->
            JWKSourceBuilder.<SecurityContext>create(url)
                .rateLimited(options.jwksRefreshInterval().toMillis())
                .retrying(true)
                .build())
        .orElse(null);
  }

  public Result verify(String token) {
    JWTClaimsSet claims;
    try {
      // Parsed as any JWT, so that the processor still names what it refuses (alg: none, a JWE).
      JWT jwt = JWTParser.parse(token);
      claims = jwt instanceof SignedJWT signed && isPlainHs256(signed.getHeader())
          ? verifyHs256(signed)
          : processor.process(jwt, null);
    } catch (ParseException e) {
      return new Rejected("malformed token");
    } catch (BadJOSEException e) {
      return new Rejected(describe(e));
    } catch (KeySourceException e) {
      return new Rejected("the signing keys could not be fetched");
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

  /** HS256, no key id (the secrets have none), no critical parameters, and typ absent or JWT. */
  private static boolean isPlainHs256(JWSHeader header) {
    return header.getAlgorithm().equals(JWSAlgorithm.HS256)
        && header.getKeyID() == null
        && header.getCriticalParams() == null
        && (header.getType() == null || header.getType().equals(JOSEObjectType.JWT));
  }

  /** What the processor does for such a token: the signature by one of the secrets, then the claims. */
  private JWTClaimsSet verifyHs256(SignedJWT jwt) throws BadJOSEException {
    byte[] input = jwt.getSigningInput();
    byte[] signature = jwt.getSignature().decode();
    Mac mac = macs.get();
    boolean signed = false;
    for (SecretKeySpec key : hmacKeys) {
      try {
        mac.init(key);
      } catch (InvalidKeyException e) {
        throw new IllegalStateException("an HS256 secret was refused by the JDK", e);
      }
      // Constant time: how much of a forged signature matches must not show in the timing.
      if (MessageDigest.isEqual(mac.doFinal(input), signature)) {
        signed = true;
        break;
      }
    }
    if (!signed) {
      throw new BadJOSEException("Signed JWT rejected: Invalid signature");
    }
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new BadJOSEException("Payload of JWS object is not a valid JSON object", e);
    }
    claimsVerifier.verify(claims, null);
    return claims;
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
      return message.contains("sub") ? "token has no sub claim" : "token is missing a required claim (iss)";
    }
    if (message.contains("audience")) {
      return "token is for another audience";
    }
    if (message.contains("iss claim")) {
      return "token is from another issuer";
    }
    if (message.contains("no matching key") || message.contains("key selector") || message.contains("No matching")) {
      return "no key for this token (kid or algorithm)";
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
