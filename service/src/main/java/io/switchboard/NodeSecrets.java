package io.switchboard;

import io.switchboard.auth.DevTokens;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.config.SwitchboardSettings;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's JWT secrets and API keys: the configured ones, or, where none is configured, a random
 * one made for this process (a dev node; tokens signed with it work on this node only).
 */
record NodeSecrets(List<String> jwtSecrets, boolean devSecret, List<String> apiKeys, boolean devKey) {
  private static final Logger log = LoggerFactory.getLogger(Switchboard.class);

  static NodeSecrets from(SwitchboardSettings settings) {
    List<String> secrets = settings.auth().jwtSecrets();
    boolean devSecret = secrets.isEmpty();
    boolean devKey = settings.api().keys().isEmpty();
    return new NodeSecrets(
        devSecret ? List.of(DevTokens.randomSecret(32)) : secrets,
        devSecret,
        devKey ? List.of(DevTokens.randomSecret(24)) : settings.api().keys(),
        devKey);
  }

  /** The secret new tokens are signed with: the first. */
  String jwtSecret() {
    return jwtSecrets.get(0);
  }

  TokenVerifier verifier(SwitchboardSettings settings) {
    return new TokenVerifier(jwtSecrets, settings.auth().tokenOptions(), settings.auth().clockSkew());
  }

  /** True when the JWT secret or the API key was made up at start. */
  boolean dev() {
    return devSecret || devKey;
  }

  /** Says, once the node runs, which secrets were made up. */
  void warnIfMadeUp() {
    if (devSecret) {
      log.warn("JWT_SECRET is not set: made a random one for this process (tokens work on this node only)");
    }
    if (devKey) {
      log.warn("API_KEY is not set: made a random one for this process");
    }
  }
}
