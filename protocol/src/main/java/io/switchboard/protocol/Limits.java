package io.switchboard.protocol;

import java.util.Optional;

/** Limits that are part of the wire contract, shared by the service and its clients. */
public final class Limits {
  /** Most users one {@code POST /v1/messages} or {@code POST /v1/presence} may name. */
  public static final int MAX_USERS_PER_REQUEST = 100;
  /** Longest user id, in UTF-16 chars. */
  public static final int MAX_USER_ID_LENGTH = 256;

  private Limits() {}

  /** Why {@code userId} is not acceptable, or empty when it is. */
  public static Optional<String> userIdProblem(String userId) {
    if (userId == null || userId.isEmpty()) {
      return Optional.of("user id must not be empty");
    }
    if (userId.equals(".") || userId.equals("..")) {
      // URLs resolve these as path segments (also when percent-encoded): no route could name the user.
      return Optional.of("user id must not be . or ..");
    }
    if (userId.length() > MAX_USER_ID_LENGTH) {
      return Optional.of("user id is longer than " + MAX_USER_ID_LENGTH + " characters");
    }
    for (int i = 0; i < userId.length(); i++) {
      char c = userId.charAt(i);
      if (Character.isISOControl(c)) {
        return Optional.of("user id must not contain control characters");
      }
      if (Character.isSurrogate(c)) {
        // A lone surrogate is no character: it cannot travel as UTF-8 (in a token, a URL, JSON)
        // and come back the same, so the id would name different users in different places.
        if (Character.isHighSurrogate(c) && i + 1 < userId.length()
            && Character.isLowSurrogate(userId.charAt(i + 1))) {
          i++;
        } else {
          return Optional.of("user id must be valid Unicode (a lone surrogate)");
        }
      }
    }
    return Optional.empty();
  }
}
