package io.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keys, rotation, algorithm confusion and claims: what decides whether a token opens a connection. */
class TokenVerifierTest {
  private static final String OLD = "old-secret-old-secret-old-secret-old-0123";
  private static final String NEW = "new-secret-new-secret-new-secret-new-0123";
  private static final Duration SKEW = Duration.ofSeconds(5);

  private static JWTClaimsSet.Builder claims(String user) {
    return new JWTClaimsSet.Builder().subject(user).expirationTime(Date.from(Instant.now().plusSeconds(600)));
  }

  private static String sign(JWSSigner signer, JWSAlgorithm alg, String kid, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(
        new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  private static String hs(String secret, String user) throws Exception {
    return sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, null,
        claims(user).build());
  }

  private static void accepted(TokenVerifier verifier, String token, String user) {
    TokenVerifier.Result result = verifier.verify(token);
    assertInstanceOf(TokenVerifier.Verified.class, result, result.toString());
    assertEquals(user, ((TokenVerifier.Verified) result).user().id());
  }

  private static String refused(TokenVerifier verifier, String token) {
    TokenVerifier.Result result = verifier.verify(token);
    assertInstanceOf(TokenVerifier.Rejected.class, result, "refused: " + result);
    return ((TokenVerifier.Rejected) result).reason();
  }

  private static TokenVerifier.Options jwksFile(Path file) {
    return new TokenVerifier.Options(Optional.of(file), Optional.empty(), Duration.ofSeconds(30),
        Optional.empty(), Optional.empty());
  }

  @Test
  void severalSecretsAreAcceptedAtOnceForRotation() throws Exception {
    TokenVerifier verifier = new TokenVerifier(List.of(NEW, OLD), TokenVerifier.Options.none(), SKEW);
    accepted(verifier, hs(NEW, "ann"), "ann");
    accepted(verifier, hs(OLD, "bob"), "bob");
    assertEquals("invalid token signature",
        refused(verifier, hs("third-secret-third-secret-third-secret-0123", "eve")));
  }

  @Test
  void theCommonHs256PathChecksTheSignatureOverHeaderAndPayloadAndThenTheClaims() throws Exception {
    TokenVerifier verifier = new TokenVerifier(List.of(NEW, OLD), TokenVerifier.Options.none(), SKEW);
    String[] ann = hs(NEW, "ann").split("\\.");
    String[] eve = hs(NEW, "eve").split("\\.");
    // Eve's claims under Ann's signature, and a signature cut short or missing (a JWS needs one).
    assertEquals("invalid token signature", refused(verifier, ann[0] + "." + eve[1] + "." + ann[2]));
    assertEquals("invalid token signature",
        refused(verifier, ann[0] + "." + ann[1] + "." + ann[2].substring(0, 20)));
    assertEquals("malformed token", refused(verifier, ann[0] + "." + ann[1] + "."));
    // Another header (no typ) under the same signature: the header is signed too.
    String bare = Base64.getUrlEncoder().withoutPadding().encodeToString(
        "{\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_8));
    assertEquals("invalid token signature", refused(verifier, bare + "." + ann[1] + "." + ann[2]));
    // Signed right, but the claims fail: expired, or no sub; both secrets take this path.
    MACSigner old = new MACSigner(OLD.getBytes(StandardCharsets.UTF_8));
    assertEquals("token expired", refused(verifier, sign(old, JWSAlgorithm.HS256, null,
        claims("ann").expirationTime(Date.from(Instant.now().minusSeconds(60))).build())));
    assertEquals("token has no sub claim", refused(verifier, sign(old, JWSAlgorithm.HS256, null,
        new JWTClaimsSet.Builder().expirationTime(Date.from(Instant.now().plusSeconds(60))).build())));
    assertEquals("malformed token", refused(verifier, "not.a-token"));
    // An unsigned token is not malformed: it is named for what it is.
    assertEquals("unsigned tokens (alg: none) are refused",
        refused(verifier, new PlainJWT(claims("eve").build()).serialize()));
  }

  @Test
  void hs256TokensWithAKidACritOrAnotherTypGoThroughTheFullProcessor() throws Exception {
    TokenVerifier verifier = new TokenVerifier(List.of(NEW), TokenVerifier.Options.none(), SKEW);
    MACSigner signer = new MACSigner(NEW.getBytes(StandardCharsets.UTF_8));
    // The secrets have no kid, so a token naming one finds no key.
    assertEquals("no key for this token (kid or algorithm)",
        refused(verifier, sign(signer, JWSAlgorithm.HS256, "some-kid", claims("eve").build())));
    SignedJWT critical = new SignedJWT(
        new JWSHeader.Builder(JWSAlgorithm.HS256).criticalParams(java.util.Set.of("exp"))
            .customParam("exp", 1).build(),
        claims("eve").build());
    critical.sign(signer);
    refused(verifier, critical.serialize());
    SignedJWT otherType = new SignedJWT(
        new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType("at+jwt")).build(),
        claims("eve").build());
    otherType.sign(signer);
    refused(verifier, otherType.serialize());
  }

  @Test
  void rs256AndEs256TokensAreCheckedAgainstTheJwksKeyTheirKidNames(@TempDir Path dir) throws Exception {
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    Path file = dir.resolve("jwks.json");
    Files.writeString(file, new JWKSet(List.<JWK>of(rsa, ec)).toPublicJWKSet().toString());
    TokenVerifier verifier = new TokenVerifier(List.of(NEW), jwksFile(file), SKEW);

    accepted(verifier, sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, "rsa-1", claims("ann").build()), "ann");
    accepted(verifier, sign(new ECDSASigner(ec), JWSAlgorithm.ES256, "ec-1", claims("bob").build()), "bob");
    accepted(verifier, hs(NEW, "cy"), "cy");

    RSAKey impostor = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    assertEquals("invalid token signature", refused(verifier,
        sign(new RSASSASigner(impostor), JWSAlgorithm.RS256, "rsa-1", claims("eve").build())));
    refused(verifier, sign(new RSASSASigner(impostor), JWSAlgorithm.RS256, "rsa-unknown", claims("eve").build()));
    // The EC key's kid with an RSA signature: the kid's key is not an RSA key.
    refused(verifier, sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, "ec-1", claims("eve").build()));
  }

  @Test
  void anHs256TokenSignedWithThePublicKeyAsSecretIsRefused(@TempDir Path dir) throws Exception {
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    Path file = dir.resolve("jwks.json");
    String publicJwks = new JWKSet(rsa).toPublicJWKSet().toString();
    Files.writeString(file, publicJwks);
    TokenVerifier verifier = new TokenVerifier(List.of(NEW), jwksFile(file), SKEW);
    // The classic confusion: the public key (known to anyone) used as the HMAC secret, alg HS256,
    // kid of the RSA key. The secret must come from the HS secrets, never from an RSA key.
    byte[][] publicForms = {
        rsa.toRSAPublicKey().getEncoded(),
        rsa.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8),
        publicJwks.getBytes(StandardCharsets.UTF_8)};
    for (byte[] secret : publicForms) {
      refused(verifier, sign(new MACSigner(secret), JWSAlgorithm.HS256, "rsa-1", claims("eve").build()));
      refused(verifier, sign(new MACSigner(secret), JWSAlgorithm.HS256, null, claims("eve").build()));
    }
  }

  @Test
  void aJwksUrlIsFetchedAgainForAnUnknownKidButNotForEveryBadToken() throws Exception {
    RSAKey first = new RSAKeyGenerator(2048).keyID("k1").generate();
    RSAKey second = new RSAKeyGenerator(2048).keyID("k2").generate();
    List<JWK> published = new CopyOnWriteArrayList<>(List.of(first.toPublicJWK()));
    AtomicInteger fetches = new AtomicInteger();
    HttpServer keys = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    keys.createContext("/jwks.json", exchange -> {
      fetches.incrementAndGet();
      byte[] body = new JWKSet(published).toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    keys.start();
    try {
      URI url = URI.create("http://127.0.0.1:" + keys.getAddress().getPort() + "/jwks.json");
      TokenVerifier verifier = new TokenVerifier(List.of(NEW),
          new TokenVerifier.Options(Optional.empty(), Optional.of(url.toURL()), Duration.ofMillis(200),
              Optional.empty(), Optional.empty()), SKEW);
      accepted(verifier, sign(new RSASSASigner(first), JWSAlgorithm.RS256, "k1", claims("ann").build()), "ann");

      // The issuer rotates: a token with the new kid makes the node fetch the set again.
      published.add(second.toPublicJWK());
      String rotated = sign(new RSASSASigner(second), JWSAlgorithm.RS256, "k2", claims("bob").build());
      io.switchboard.support.TestCluster.await("the new key is fetched for its kid",
          () -> verifier.verify(rotated) instanceof TokenVerifier.Verified);

      // A flood of tokens with unknown kids does not become a flood of fetches.
      int before = fetches.get();
      RSAKey stranger = new RSAKeyGenerator(2048).keyID("nobody").generate();
      String bad = sign(new RSASSASigner(stranger), JWSAlgorithm.RS256, "nobody", claims("eve").build());
      long started = System.nanoTime();
      for (int i = 0; i < 1000; i++) {
        refused(verifier, bad);
      }
      long windows = Duration.ofNanos(System.nanoTime() - started).toMillis() / 200 + 1;
      // (nimbus allows two fetches per rate-limit interval)
      assertTrue(fetches.get() - before <= 2 * windows + 1,
          (fetches.get() - before) + " fetches for 1000 bad tokens over " + windows + " refresh intervals");
    } finally {
      keys.stop(0);
    }
  }

  @Test
  void audienceAndIssuerAreRequiredWhenConfigured() throws Exception {
    TokenVerifier verifier = new TokenVerifier(List.of(NEW),
        new TokenVerifier.Options(Optional.empty(), Optional.empty(), Duration.ofSeconds(30),
            Optional.of("switchboard"), Optional.of("https://auth.example.com")), SKEW);
    MACSigner signer = new MACSigner(NEW.getBytes(StandardCharsets.UTF_8));
    accepted(verifier, sign(signer, JWSAlgorithm.HS256, null,
        claims("ann").audience(List.of("other", "switchboard")).issuer("https://auth.example.com").build()), "ann");
    assertEquals("token is for another audience", refused(verifier, sign(signer, JWSAlgorithm.HS256, null,
        claims("eve").audience("other").issuer("https://auth.example.com").build())));
    assertEquals("token is for another audience", refused(verifier, sign(signer, JWSAlgorithm.HS256, null,
        claims("eve").issuer("https://auth.example.com").build())));
    assertEquals("token is from another issuer", refused(verifier, sign(signer, JWSAlgorithm.HS256, null,
        claims("eve").audience("switchboard").issuer("https://evil.example.com").build())));
  }
}
