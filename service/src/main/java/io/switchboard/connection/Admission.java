package io.switchboard.connection;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.protocol.ApiError;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;

/**
 * Decides an upgrade request before any WebSocket or actor exists, the same way on either edge: the
 * path, that it is a WebSocket upgrade at all, the node's connection limit, the page's Origin, and the
 * token. A refusal is an HTTP status with an error and a code for the JSON body (404, 400, 503, 403,
 * 401); an admitted request carries its user (null: anonymous).
 *
 * <p>The token is taken from, in this order: {@code Authorization: Bearer}, the {@code token} query
 * parameter, or a {@code Sec-WebSocket-Protocol} entry {@code bearer.<jwt>} (offered beside
 * {@code switchboard} or {@code switchboard.v2}, which the server selects).
 *
 * <p>A client that offers {@code switchboard.v2}, or asks {@code ?protocol=2}, speaks protocol v2: every
 * server frame in an envelope ({@link EnvelopeSocket}). {@code ?protocol=1} keeps the raw frames.
 */
final class Admission {
  static final String SUBPROTOCOL = "switchboard";
  static final String SUBPROTOCOL_V2 = "switchboard.v2";
  private static final String PROTOCOL_TOKEN_PREFIX = "bearer.";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What an edge reads from an upgrade request; header values are null when absent. */
  record Request(
      String path,
      boolean isWebSocketUpgrade,
      String origin,
      String authorization,
      String tokenParameter,
      String protocolParameter,
      List<String> protocolHeaders) {}

  sealed interface Decision {}

  /** {@code envelope}: the connection speaks protocol v2. */
  record Admitted(AuthenticatedUser user, boolean envelope) implements Decision {}

  record Refused(int status, String error, String code) implements Decision {
    /** The JSON body every refusal has: {@code {"error": ..., "code": ...}}. */
    byte[] body() {
      try {
        return JSON.writeValueAsBytes(new ApiError(error, code));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private final String path;
  private final TokenVerifier verifier;
  private final boolean allowAnonymous;
  private final Set<String> allowedOrigins;
  private final int maxConnections;
  private final IntSupplier openConnections;

  /**
   * @param allowedOrigins origins whose pages may connect; empty: any
   * @param openConnections sockets the node holds now, this one included
   */
  Admission(
      String path,
      TokenVerifier verifier,
      boolean allowAnonymous,
      List<String> allowedOrigins,
      int maxConnections,
      IntSupplier openConnections) {
    this.path = path;
    this.verifier = verifier;
    this.allowAnonymous = allowAnonymous;
    this.allowedOrigins = allowedOrigins.stream().map(Admission::normalize).collect(Collectors.toSet());
    this.maxConnections = maxConnections;
    this.openConnections = openConnections;
  }

  private static String normalize(String origin) {
    String lower = origin.trim().toLowerCase(Locale.ROOT);
    return lower.endsWith("/") ? lower.substring(0, lower.length() - 1) : lower;
  }

  Decision decide(Request request) {
    if (!request.path().equals(path)) {
      return new Refused(404, "no such path; the WebSocket endpoint is " + path, "not_found");
    }
    if (!request.isWebSocketUpgrade()) {
      return new Refused(400,
          "expected a WebSocket upgrade request (GET with Upgrade: websocket)", "not_websocket");
    }
    if (openConnections.getAsInt() > maxConnections) {
      return new Refused(503,
          "this node holds its maximum of connections; try another node or later", "node_full");
    }
    String origin = request.origin();
    if (origin != null && !allowedOrigins.isEmpty() && !allowedOrigins.contains(normalize(origin))) {
      return new Refused(403, "origin not allowed: " + origin, "origin_not_allowed");
    }
    String version = request.protocolParameter();
    if (version != null && !version.equals("1") && !version.equals("2")) {
      return new Refused(400, "protocol must be 1 or 2, got '" + version + "'", "bad_request");
    }
    boolean envelope = version == null
        ? SUBPROTOCOL_V2.equals(selectedSubprotocol(request.protocolHeaders()))
        : version.equals("2");
    String token = token(request);
    if (token == null) {
      return allowAnonymous
          ? new Admitted(null, envelope)
          : new Refused(401, "missing token", "unauthorized");
    }
    TokenVerifier.Result result = verifier.verify(token);
    if (result instanceof TokenVerifier.Rejected rejected) {
      return new Refused(401, rejected.reason(), "unauthorized");
    }
    return new Admitted(((TokenVerifier.Verified) result).user(), envelope);
  }

  /** The token of the request, "" when one was offered in a malformed way, null when none was. */
  private static String token(Request request) {
    String authorization = request.authorization();
    if (authorization != null) {
      return authorization.regionMatches(true, 0, "Bearer ", 0, 7)
          ? authorization.substring(7).trim()
          : "";
    }
    if (request.tokenParameter() != null) {
      return request.tokenParameter();
    }
    for (String header : request.protocolHeaders()) {
      for (String entry : header.split(",")) {
        String trimmed = entry.trim();
        if (trimmed.startsWith(PROTOCOL_TOKEN_PREFIX)) {
          return trimmed.substring(PROTOCOL_TOKEN_PREFIX.length());
        }
      }
    }
    return null;
  }

  /**
   * The subprotocol the server selects: the first of Switchboard's the client offered, null when it
   * offered none (Netty's handshaker chooses the same way).
   */
  static String selectedSubprotocol(List<String> protocolHeaders) {
    return protocolHeaders.stream()
        .flatMap(header -> java.util.Arrays.stream(header.split(",")))
        .map(String::trim)
        .filter(entry -> entry.equals(SUBPROTOCOL) || entry.equals(SUBPROTOCOL_V2))
        .findFirst()
        .orElse(null);
  }
}
