package io.switchboard.connection;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * The answer of the internal API and of the Pekko HTTP edge to a request they cannot parse: the status
 * Pekko HTTP chose, with the JSON error body every other refusal has (Pekko HTTP's default is plain
 * text and a warning per request). Named by class in {@code pekko.http.server.parsing.error-handler}.
 */
public final class MalformedRequestAnswer extends ParsingErrorHandler {
  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo error, LoggingAdapter log, ServerSettings settings) {
    log.debug("malformed request, answering {}: {}", status, error.summary());
    byte[] body = new Admission.Refused(
        status.intValue(), "malformed HTTP request: " + error.summary(), "bad_request").body();
    return HttpResponse.create().withStatus(status.intValue())
        .withEntity(ContentTypes.APPLICATION_JSON, body);
  }
}
