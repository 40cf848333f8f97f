package io.switchboard.api;

import static io.switchboard.api.JsonResponses.JSON;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.switchboard.auth.ApiKeys;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.config.SwitchboardSettings;
import io.switchboard.messaging.ClusterInfo;
import io.switchboard.messaging.Messaging;
import io.switchboard.messaging.UserConnections;
import io.switchboard.metrics.SwitchboardMetrics;
import io.switchboard.presence.PresenceEventHub;
import io.switchboard.presence.PresenceListener;
import io.switchboard.protocol.ApiError;
import io.switchboard.protocol.ConnectionsClosed;
import io.switchboard.protocol.Delivery;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.MultiSendResponse;
import io.switchboard.protocol.Presence;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.protocol.PresenceList;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaType;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The internal HTTP API for the app's backend and jobs (documented in {@code protocol/openapi.yaml}).
 * Every route but {@code /health} and the console's static files ({@code /console}) needs
 * {@code Authorization: Bearer API_KEY}. Every error is a JSON
 * {@link ApiError} with the matching status, made by {@link ApiErrors}; a request never gets a 500 for
 * bad input. The routes ask {@link Messaging} to send, {@link UserConnections} for a user's
 * connections, the {@link PresenceEventHub} for the event stream and {@link ClusterInfo} for the rest.
 */
public final class ApiRoutes extends AllDirectives {
  private static final List<HttpHeader> CONSOLE_HEADERS =
      List.of(
          RawHeader.create(
              "Content-Security-Policy",
              "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                  + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
          RawHeader.create("X-Content-Type-Options", "nosniff"),
          RawHeader.create("Referrer-Policy", "no-referrer"),
          RawHeader.create("Cache-Control", "no-cache"));

  private static final String SEND_PREFIX = "/v1/users/";
  private static final String SEND_SUFFIX = "/messages";

  private final Messaging messaging;
  private final UserConnections users;
  private final PresenceEventHub presenceEvents;
  private final ClusterInfo cluster;
  private final ApiKeys keys;
  private final SwitchboardSettings.Api settings;
  private final ActorSystem<?> system;

  public ApiRoutes(
      Messaging messaging,
      UserConnections users,
      PresenceEventHub presenceEvents,
      ClusterInfo cluster,
      ApiKeys keys,
      SwitchboardSettings.Api settings,
      ActorSystem<?> system) {
    this.messaging = messaging;
    this.users = users;
    this.presenceEvents = presenceEvents;
    this.cluster = cluster;
    this.keys = keys;
    this.settings = settings;
    this.system = system;
  }

  public Route route() {
    return handleExceptions(
        ApiErrors.exceptions(settings.maxBodySize()),
        () ->
            handleRejections(
                ApiErrors.rejections(),
                () ->
                    concat(
                        pathPrefix("health", this::health),
                        pathPrefix("console", this::console),
                        path("metrics", () -> authorized(() -> get(this::metrics))),
                        pathPrefix("v1", () -> authorized(this::v1)))));
  }

  /**
   * The API as the server's per-connection flow: {@link #route()} with two shortcuts for its hot path,
   * the send to one user. A body that arrives after its headers (as the JDK's HttpClient sends it) is
   * read inside the connection's own stream, not by a stream materialized per request (an actor each);
   * and a well-formed send with a valid key is answered without the routing tree. Everything else,
   * every error included, is answered by the routes.
   */
  public Flow<HttpRequest, HttpResponse, NotUsed> flow() {
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> routes =
        route().handler(system);
    return Flow.<HttpRequest>create()
        .flatMapConcat(this::withBodyRead)
        .mapAsync(
            1,
            request -> {
              CompletionStage<HttpResponse> sent = sendShortcut(request);
              return sent != null ? sent : routes.apply(request);
            });
  }

  /** The request with a strict entity, when its length is known and within the body limit. */
  private Source<HttpRequest, NotUsed> withBodyRead(HttpRequest request) {
    HttpEntity entity = request.entity();
    if (entity instanceof HttpEntity.Strict
        || entity.getContentLengthOption().orElse(Long.MAX_VALUE) > settings.maxBodySize()) {
      return Source.single(request);
    }
    return entity
        .getDataBytes()
        .fold(ByteString.emptyByteString(), ByteString::concat)
        .map(body -> request.withEntity(HttpEntities.create(entity.getContentType(), body)))
        .mapMaterializedValue(unused -> NotUsed.getInstance());
  }

  /**
   * {@code POST /v1/users/{id}/messages} with a read body, a valid key and a user id written without
   * escapes: what the routes would answer, without matching them. Null for anything else.
   */
  private CompletionStage<HttpResponse> sendShortcut(HttpRequest request) {
    if (!request.method().equals(HttpMethods.POST)
        || !(request.entity() instanceof HttpEntity.Strict body)
        || body.getData().size() > settings.maxBodySize()) {
      return null;
    }
    String path = request.getUri().path();
    if (path.length() <= SEND_PREFIX.length() + SEND_SUFFIX.length()
        || !path.startsWith(SEND_PREFIX)
        || !path.endsWith(SEND_SUFFIX)) {
      return null;
    }
    String userId = path.substring(SEND_PREFIX.length(), path.length() - SEND_SUFFIX.length());
    if (userId.indexOf('/') >= 0
        || userId.indexOf('%') >= 0
        || Limits.userIdProblem(userId).isPresent()
        || !request.getHeader("Authorization").map(h -> acceptsKey(h.value())).orElse(false)) {
      return null;
    }
    return send(userId, body);
  }

  /** Prometheus text format: this node's counters and gauges, and the JVM's. */
  private Route metrics() {
    return complete(
        HttpResponse.create()
            .withEntity(
                HttpEntities.create(
                    ContentTypes.TEXT_PLAIN_UTF8, SwitchboardMetrics.get(system).scrape())));
  }

  /**
   * The operator's console: static files from the jar, no key needed to load them; the page asks for the
   * API key and keeps it in memory, sending it with each of its API calls. The policy forbids anything
   * but this origin (no inline script, no CDN, no framing).
   */
  private Route console() {
    return get(
        () ->
            respondWithHeaders(
                CONSOLE_HEADERS,
                () ->
                    concat(
                        pathEnd(() -> redirect(Uri.create("/console/"), StatusCodes.PERMANENT_REDIRECT)),
                        pathSingleSlash(
                            () -> getFromResource("console/index.html", ContentTypes.TEXT_HTML_UTF8)),
                        getFromResourceDirectory("console"))));
  }

  private Route health() {
    return concat(
        path("live", () -> get(() -> json(StatusCodes.OK, Map.of("status", "live")))),
        path(
            "ready",
            () ->
                get(
                    () ->
                        cluster.isReady()
                            ? json(StatusCodes.OK, Map.of("status", "ready"))
                            : complete(ApiErrors.notReady()))));
  }

  private Route v1() {
    return concat(
        pathPrefix(
            "users",
            () ->
                concat(
                    pathPrefix(PathMatchers.segment(), id -> utf8Path(() -> user(id))),
                    // "/v1/users//messages", "/v1/users/": the id is empty
                    pathPrefix(PathMatchers.slash(), this::emptyUserId),
                    pathSingleSlash(this::emptyUserId))),
        path("messages", () -> post(this::sendMany)),
        path("presence", () -> post(this::presenceMany)),
        path("events", () -> get(this::events)),
        path("cluster", () -> get(() -> json(StatusCodes.OK, cluster.clusterView()))),
        path("nodes", () -> get(() -> answer(cluster.nodeStats(), stats -> stats))));
  }

  /** {@code inner} when the path's percent-escapes are UTF-8 (see {@link RawPath}); else 400. */
  private Route utf8Path(Supplier<Route> inner) {
    return optionalHeaderValueByName(
        RawPath.HEADER,
        raw ->
            raw.isPresent() && !RawPath.isUtf8(raw.get())
                ? complete(ApiErrors.invalidUserId("user id in the path is not valid UTF-8"))
                : inner.get());
  }

  private Route emptyUserId() {
    return complete(ApiErrors.emptyUserId());
  }

  private Route user(String userId) {
    Optional<String> problem = Limits.userIdProblem(userId);
    if (problem.isPresent()) {
      return complete(ApiErrors.invalidUserId(problem.get()));
    }
    return concat(
        path("messages", () -> post(() -> sendToUser(userId))),
        path("presence", () -> get(() -> presence(userId))),
        path("connections", () -> delete(() -> closeConnections(userId))));
  }

  private Route authorized(Supplier<Route> inner) {
    return optionalHeaderValueByName(
        "Authorization",
        header -> {
          if (header.isEmpty()) {
            return complete(ApiErrors.missingKey());
          }
          if (!acceptsKey(header.get())) {
            return complete(ApiErrors.invalidKey());
          }
          return inner.get();
        });
  }

  /** {@code Authorization: Bearer KEY} with a key this node accepts. */
  private boolean acceptsKey(String authorization) {
    return authorization.regionMatches(true, 0, "Bearer ", 0, 7)
        && keys.accepts(authorization.substring(7).trim());
  }

  // --- sends ---------------------------------------------------------------------------------

  private Route sendToUser(String userId) {
    return body(entity -> completeWithFuture(send(userId, entity)));
  }

  /** The answer to a send of {@code entity} (JSON, text or binary by its type) to {@code userId}. */
  private CompletionStage<HttpResponse> send(String userId, HttpEntity.Strict entity) {
    MediaType media = entity.getContentType().mediaType();
    OutboundMessage message;
    try {
      if (media.equals(MediaTypes.APPLICATION_JSON)) {
        message = OutboundMessage.json(RequestBodies.message(entity.getData().toArray()));
      } else if (media.equals(MediaTypes.TEXT_PLAIN)) {
        message = OutboundMessage.text(RequestBodies.text(entity.getData().toArray()));
      } else if (media.equals(MediaTypes.APPLICATION_OCTET_STREAM)) {
        message = OutboundMessage.binary(entity.getData().toArray());
      } else {
        return CompletableFuture.completedFuture(ApiErrors.unsupportedSendType());
      }
    } catch (RequestBodies.Invalid invalid) {
      return CompletableFuture.completedFuture(ApiErrors.invalid(invalid));
    }
    return answered(messaging.send(userId, message), delivered -> new Delivery(userId, delivered));
  }

  /** {@code POST /v1/messages}: a user named twice is sent to once and listed once. */
  private Route sendMany() {
    return jsonBody(
        RequestBodies::multiSend,
        request ->
            answer(
                messaging.to(request.to()).send(request.message()),
                counts -> {
                  List<Delivery> results = new ArrayList<>(counts.size());
                  counts.forEach((user, n) -> results.add(new Delivery(user, n)));
                  return new MultiSendResponse(
                      results, counts.values().stream().mapToInt(Integer::intValue).sum());
                }));
  }

  // --- presence ------------------------------------------------------------------------------

  private Route presence(String userId) {
    return answer(users.presence(userId), p -> p);
  }

  /** {@code POST /v1/presence}: a user named twice is answered once. */
  private Route presenceMany() {
    return jsonBody(
        RequestBodies::presenceQuery,
        ids -> {
          List<CompletableFuture<Presence>> answers = new ArrayList<>();
          for (String user : new LinkedHashSet<>(ids)) {
            answers.add(users.presence(user).toCompletableFuture());
          }
          CompletionStage<PresenceList> all =
              CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
                  .thenApply(
                      done -> new PresenceList(answers.stream().map(CompletableFuture::join).toList()));
          return answer(all, list -> list);
        });
  }

  private Route closeConnections(String userId) {
    return answer(
        users.closeConnections(userId, "closed by the application"),
        closed -> new ConnectionsClosed(userId, closed));
  }

  // --- events --------------------------------------------------------------------------------

  private Route events() {
    Source<ServerSentEvent, NotUsed> events =
        Source.<ServerSentEvent>queue(settings.eventsBuffer())
            .mapMaterializedValue(this::subscribe)
            .watchTermination(
                (registration, done) -> {
                  done.whenComplete((d, e) -> registration.close());
                  return NotUsed.getInstance();
                })
            .keepAlive(settings.eventsHeartbeat(), ServerSentEvent::heartbeat);
    return completeOK(events, EventStreamMarshalling.toEventStream());
  }

  private PresenceListener.Registration subscribe(BoundedSourceQueue<ServerSentEvent> queue) {
    return presenceEvents.add(
        event -> {
          QueueOfferResult result = queue.offer(sse(event));
          if (!result.equals(QueueOfferResult.enqueued())) {
            // A reader this far behind gets its stream ended; it reconnects and reads presence anew.
            queue.complete();
          }
        });
  }

  private static ServerSentEvent sse(PresenceEvent event) {
    try {
      return ServerSentEvent.create(JSON.writeValueAsString(event), Optional.empty(),
          Optional.of(event.id()), java.util.OptionalInt.empty());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  // --- plumbing ------------------------------------------------------------------------------

  private Route body(Function<HttpEntity.Strict, Route> inner) {
    return extractStrictEntity(settings.askTimeout(), settings.maxBodySize(), inner);
  }

  /** A body of {@code application/json}, read by {@code reader} (400 with its reason when it fails). */
  private <T> Route jsonBody(BodyReader<T> reader, Function<T, Route> inner) {
    return body(
        entity -> {
          if (!entity.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
            return complete(ApiErrors.notJsonType());
          }
          T value;
          try {
            value = reader.read(entity.getData().toArray());
          } catch (RequestBodies.Invalid invalid) {
            return complete(ApiErrors.invalid(invalid));
          }
          return inner.apply(value);
        });
  }

  @FunctionalInterface
  private interface BodyReader<T> {
    T read(byte[] body) throws RequestBodies.Invalid;
  }

  /** Completes with {@code view} of the answer, or 503 when the cluster did not answer in time. */
  private <T> Route answer(CompletionStage<T> stage, Function<T, Object> view) {
    return completeWithFuture(answered(stage, view));
  }

  private static <T> CompletionStage<HttpResponse> answered(
      CompletionStage<T> stage, Function<T, Object> view) {
    return stage.handle(
        (value, failure) ->
            failure == null
                ? JsonResponses.of(StatusCodes.OK, view.apply(value))
                : ApiErrors.unavailable(failure));
  }

  private Route json(StatusCode status, Object body) {
    return complete(JsonResponses.of(status, body));
  }
}
