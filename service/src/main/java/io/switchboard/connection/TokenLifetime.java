package io.switchboard.connection;

import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.presence.ToConnection;
import io.switchboard.protocol.CloseCodes;
import java.time.Duration;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * How long an authenticated connection may live: until its token's {@code exp} (none: for ever), moved
 * by a refresh with a fresh token for the same user. It owns the connection's current user: the one of
 * the token it opened with, or of the latest refresh. Anonymous connections have none.
 *
 * <p>At {@code exp} the actor gets {@link Expired} and closes with 4001. A refresh with an invalid token
 * is answered with an error and changes nothing; one for another user closes the connection with 4003.
 */
final class TokenLifetime {

  /** The token's {@code exp} has come and no refresh moved it. */
  enum Expired implements ConnectionActor.Command {
    INSTANCE
  }

  private final TimerScheduler<ToConnection> timers;
  private AuthenticatedUser user;

  /** Starts the expiry timer of {@code user}'s token. */
  TokenLifetime(AuthenticatedUser user, TimerScheduler<ToConnection> timers) {
    this.user = user;
    this.timers = timers;
    scheduleExpiry();
  }

  AuthenticatedUser user() {
    return user;
  }

  /**
   * {@code {"$switchboard": "refresh", "token": JWT}} with {@code tokens} (null: the node offers no
   * refresh): a fresh token for the same user moves the expiry (answered {@code {"$switchboard":
   * "refreshed", "exp": ...}}). False when the connection is closed.
   */
  boolean refresh(String token, TokenVerifier tokens, ClientSocket client) {
    if (tokens == null) {
      return refused(client, "an anonymous connection has no token to refresh");
    }
    TokenVerifier.Result result = tokens.verify(token);
    if (result instanceof TokenVerifier.Rejected rejected) {
      return refused(client, rejected.reason());
    }
    AuthenticatedUser fresh = ((TokenVerifier.Verified) result).user();
    if (!fresh.id().equals(user.id())) {
      client.close(CloseCodes.WRONG_USER, "refresh token is for another user");
      return false;
    }
    user = fresh;
    scheduleExpiry();
    client.sendControl(ControlFrames.refreshed(fresh.claims().get("exp")));
    return true;
  }

  /** A refresh frame on a connection without a token (anonymous, or the node offers no refresh). */
  static boolean refused(ClientSocket client, String why) {
    client.sendControl(ControlFrames.commandError("refresh", why));
    return true;
  }

  private void scheduleExpiry() {
    timers.cancel(Expired.INSTANCE);
    if (user.claims().get("exp") instanceof Number seconds) {
      long left = seconds.longValue() * 1000 - System.currentTimeMillis();
      timers.startSingleTimer(Expired.INSTANCE, Duration.ofMillis(Math.max(0, left)));
    }
  }
}
