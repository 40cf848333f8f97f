package io.switchboard.api;

import io.switchboard.protocol.ApiError;
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
 * ({@code {"error": "...", "code": "..."}}, with {@code "field"} when one field of a body is at
 * fault; the codes are {@link ErrorCode}'s), for the routes' own checks, Pekko's rejections (404,
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
        ErrorCode.NOT_READY);
  }

  /** 401, with the challenge that says which credentials the API takes. */
  static HttpResponse missingKey() {
    return error(StatusCodes.UNAUTHORIZED, "missing API key", ErrorCode.UNAUTHORIZED)
        .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "switchboard")));
  }

  static HttpResponse invalidKey() {
    return error(StatusCodes.FORBIDDEN, "invalid API key", ErrorCode.FORBIDDEN);
  }

  static HttpResponse emptyUserId() {
    return invalidUserId("user id must not be empty");
  }

  static HttpResponse invalidUserId(String problem) {
    return error(StatusCodes.BAD_REQUEST, problem, ErrorCode.INVALID_USER_ID);
  }

  /** A body that is not what its route takes, with the field at fault where there is one. */
  static HttpResponse invalid(RequestBodies.Invalid invalid) {
    return JsonResponses.of(
        StatusCodes.BAD_REQUEST,
        new ApiError(invalid.getMessage(), invalid.code.wire(), invalid.field));
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
    return error(StatusCodes.BAD_REQUEST, message, ErrorCode.UNSUPPORTED_CONTENT_TYPE);
  }

  /** The cluster did not answer (an ask timed out, or the entity's node is gone); {@code failure}: why. */
  static HttpResponse unavailable(Throwable failure) {
    log.warn("API request failed: {}", failure.toString());
    return error(
        StatusCodes.SERVICE_UNAVAILABLE,
        "the cluster did not answer in time; the operation may or may not have happened",
        ErrorCode.UNAVAILABLE);
  }

  static HttpResponse bodyTooLarge(long maxBodySize) {
    return error(
        StatusCodes.CONTENT_TOO_LARGE,
        "request body is larger than " + maxBodySize + " bytes",
        ErrorCode.BODY_TOO_LARGE);
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
                      JsonResponses.bytes(
                          new ApiError(
                              text, ErrorCode.forStatus(response.status().intValue()).wire()))));
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
                            StatusCodes.BAD_REQUEST,
                            "could not read the request body",
                            ErrorCode.BAD_REQUEST)))
        .match(
            IllegalRequestException.class,
            e ->
                complete(
                    e.info().summary().startsWith("Request too large")
                        ? bodyTooLarge(maxBodySize)
                        : error(
                            e.status(),
                            e.info().summary(),
                            ErrorCode.forStatus(e.status().intValue()))))
        .match(
            IllegalArgumentException.class,
            e -> complete(error(StatusCodes.BAD_REQUEST, e.getMessage(), ErrorCode.BAD_REQUEST)))
        .match(
            RuntimeException.class,
            e -> {
              log.error("API route failed", e);
              return complete(
                  error(
                      StatusCodes.INTERNAL_SERVER_ERROR, "internal error", ErrorCode.INTERNAL_ERROR));
            })
        .build();
  }

  private static org.apache.pekko.http.javadsl.server.Route complete(HttpResponse response) {
    return Directives.complete(response);
  }

  private static HttpResponse error(StatusCode status, String message, ErrorCode code) {
    return JsonResponses.of(status, new ApiError(message, code.wire()));
  }
}
