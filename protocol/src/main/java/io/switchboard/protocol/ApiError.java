package io.switchboard.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The body of every error answer of the internal API: a human-readable {@code error}, a stable,
 * machine-readable {@code code} (e.g. {@code invalid_json}, {@code invalid_recipients}) and, when one
 * field of a JSON body is at fault, that {@code field} ({@code "to[1]"}, {@code "binary"}); absent
 * otherwise.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ApiError(String error, String code, String field) {
  /** An error that is not about one field. */
  public ApiError(String error, String code) {
    this(error, code, null);
  }
}
