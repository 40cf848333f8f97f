package io.switchboard.api;

import java.util.Locale;

/**
 * The stable {@code code} of every error answer of the API, in its wire form ({@link #wire()}):
 * {@code INVALID_JSON} is {@code invalid_json}. Programs branch on these; the {@code error} text beside
 * them is for people and may change. Each is documented in {@code docs/http-api.md} and the OpenAPI
 * document (a test checks both).
 */
enum ErrorCode {
  INVALID_JSON,
  INVALID_USER_ID,
  INVALID_RECIPIENTS,
  INVALID_USERS,
  INVALID_MESSAGE,
  UNSUPPORTED_CONTENT_TYPE,
  BAD_REQUEST,
  UNAUTHORIZED,
  FORBIDDEN,
  NOT_FOUND,
  METHOD_NOT_ALLOWED,
  NOT_ACCEPTABLE,
  BODY_TOO_LARGE,
  INTERNAL_ERROR,
  UNAVAILABLE,
  NOT_READY;

  String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The code of an answer Pekko made itself (a rejection), by its status. */
  static ErrorCode forStatus(int status) {
    return switch (status) {
      case 401 -> UNAUTHORIZED;
      case 403 -> FORBIDDEN;
      case 404 -> NOT_FOUND;
      case 405 -> METHOD_NOT_ALLOWED;
      case 406 -> NOT_ACCEPTABLE;
      case 413 -> BODY_TOO_LARGE;
      case 415 -> UNSUPPORTED_CONTENT_TYPE;
      case 503 -> UNAVAILABLE;
      default -> status >= 500 ? INTERNAL_ERROR : BAD_REQUEST;
    };
  }
}
