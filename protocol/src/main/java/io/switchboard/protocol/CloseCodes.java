package io.switchboard.protocol;

/** WebSocket close codes Switchboard sends, with the meaning a client should take from each. */
public final class CloseCodes {
  /** The node is shutting down; reconnect (through the load balancer) to another node. */
  public static final int GOING_AWAY = 1001;
  /** A frame or message exceeded the configured size. */
  public static final int MESSAGE_TOO_BIG = 1009;
  /** The client is too slow or sends too fast; reconnect later. */
  public static final int TRY_AGAIN_LATER = 1013;
  /** The app closed the user's connections (logout, ban): do not reconnect with the same token. */
  public static final int CLOSED_BY_APP = 4000;
  /** The token expired while the connection was open (no refresh came first): get a new token. */
  public static final int TOKEN_EXPIRED = 4001;
  /** A refresh frame carried a token of another user: do not reconnect with it. */
  public static final int WRONG_USER = 4003;
  /** The user has the most connections allowed; this newest one is refused. Retry later, with backoff. */
  public static final int TOO_MANY_CONNECTIONS = 4029;

  private CloseCodes() {}
}
