package io.switchboard.api;

import io.switchboard.protocol.ApiError;
import java.util.Locale;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.http.scaladsl.model.IllegalRequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error answer of the API, in one place: a status and a JSON {@link ApiError}
 * ({@code {"error": "...", "code": "..."}}), for the routes' own checks, Pekko's rejections (404,
 * 405, ...) and exceptions. Bad input is a 4xx, never a 500; only a failure of the node's own code is
 * {@code internal_error}.
 */
final class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);

  private ApiErrors() {}

  static HttpResponse notReady() {
    return error(
        StatusCodes.SERVICE_UNAVAILABLE,
        "node is not ready (joining the cluster or shutting down)",
        "not_ready");
  }

  /** 401, with the challenge that says which credentials the API takes. */
  static HttpResponse missingKey() {
    return error(StatusCodes.UNAUTHORIZED, "missing API key", "unauthorized")
        .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "switchboard")));
  }

  static HttpResponse invalidKey() {
    return error(StatusCodes.FORBIDDEN, "invalid API key", "forbidden");
  }

  static HttpResponse emptyUserId() {
    return invalidUserId("user id must not be empty");
  }

  static HttpResponse invalidUserId(String problem) {
    return error(StatusCodes.BAD_REQUEST, problem, "invalid_user_id");
  }

  static HttpResponse invalidRecipients(String problem) {
    return error(StatusCodes.BAD_REQUEST, problem, "invalid_recipients");
  }

  static HttpResponse invalidUsers(String problem) {
    return error(StatusCodes.BAD_REQUEST, problem, "invalid_users");
  }

  static HttpResponse notOneMessageForm() {
    return invalidMessage("exactly one of message (JSON), text or binary (base64) must be given");
  }

  static HttpResponse invalidBase64() {
    return invalidMessage("binary is not valid base64");
  }

  private static HttpResponse invalidMessage(String message) {
    return error(StatusCodes.BAD_REQUEST, message, "invalid_message");
  }

  /** A send's body, which may be JSON, text or binary, of another type. */
  static HttpResponse unsupportedSendType() {
    return unsupportedType(
        "Content-Type must be application/json, text/plain or application/octet-stream");
  }

  /** A route that takes only JSON, given another type. */
  static HttpResponse notJsonType() {
    return unsupportedType("Content-Type must be application/json");
  }

  private static HttpResponse unsupportedType(String message) {
    return error(StatusCodes.BAD_REQUEST, message, "unsupported_content_type");
  }

  /** A send's body, declared JSON, that does not parse. */
  static HttpResponse invalidJson() {
    return invalidJson("body is not valid JSON");
  }

  /** A route's JSON body that does not parse as that route's request; {@code why}: the parser's. */
  static HttpResponse invalidJsonForRoute(String why) {
    return invalidJson("body is not valid JSON for this route: " + firstLine(why));
  }

  static HttpResponse notAnObject() {
    return invalidJson("body must be a JSON object");
  }

  private static HttpResponse invalidJson(String message) {
    return error(StatusCodes.BAD_REQUEST, message, "invalid_json");
  }

  /** The cluster did not answer (an ask timed out, or the entity's node is gone); {@code failure}: why. */
  static HttpResponse unavailable(Throwable failure) {
    log.warn("API request failed: {}", failure.toString());
    return error(
        StatusCodes.SERVICE_UNAVAILABLE,
        "the cluster did not answer in time; the operation may or may not have happened",
        "unavailable");
  }

  static HttpResponse bodyTooLarge(long maxBodySize) {
    return error(
        StatusCodes.CONTENT_TOO_LARGE,
        "request body is larger than " + maxBodySize + " bytes",
        "body_too_large");
  }

  /** Pekko's own rejections (404, 405, ...) with their statuses, as JSON errors. */
  static RejectionHandler rejections() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            response -> {
              String text =
                  response.entity() instanceof HttpEntity.Strict strict
                      ? strict.getData().utf8String()
                      : response.status().reason();
              return response.withEntity(
                  HttpEntities.create(
                      ContentTypes.APPLICATION_JSON,
                      JsonResponses.bytes(new ApiError(text, code(response.status())))));
            });
  }

  /** What a route's exception answers: the body's size or form for a bad body, else 400 or 500. */
  static ExceptionHandler exceptions(long maxBodySize) {
    return ExceptionHandler.newBuilder()
        .match(EntityStreamSizeException.class, e -> complete(bodyTooLarge(maxBodySize)))
        .match(
            EntityStreamException.class,
            e ->
                complete(
                    e.info().summary().startsWith("Request too large")
                        ? bodyTooLarge(maxBodySize)
                        : error(
                            StatusCodes.BAD_REQUEST, "could not read the request body", "bad_request")))
        .match(
            IllegalRequestException.class,
            e ->
                complete(
                    e.info().summary().startsWith("Request too large")
                        ? bodyTooLarge(maxBodySize)
                        : error(e.status(), e.info().summary(), code(e.status()))))
        .match(
            IllegalArgumentException.class,
            e -> complete(error(StatusCodes.BAD_REQUEST, e.getMessage(), "bad_request")))
        .match(
            RuntimeException.class,
            e -> {
              log.error("API route failed", e);
              return complete(
                  error(StatusCodes.INTERNAL_SERVER_ERROR, "internal error", "internal_error"));
            })
        .build();
  }

  private static org.apache.pekko.http.javadsl.server.Route complete(HttpResponse response) {
    return Directives.complete(response);
  }

  private static HttpResponse error(StatusCode status, String message, String code) {
    return JsonResponses.of(status, new ApiError(message, code));
  }

  /** A status's reason as a code: "Method Not Allowed" is {@code method_not_allowed}. */
  private static String code(StatusCode status) {
    return status.reason().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
