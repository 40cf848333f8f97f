package io.switchboard.connection;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.cluster.CborSerializable;
import io.switchboard.cluster.DirectReceive;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.cluster.RandomIds;
import io.switchboard.cluster.SendPathSerializable;
import io.switchboard.handler.DataType;
import io.switchboard.handler.InboundFrame;
import io.switchboard.handler.RequestSocket;
import io.switchboard.handler.SocketRequest;
import io.switchboard.messaging.Recipients;
import io.switchboard.metrics.SwitchboardMetrics;
import io.switchboard.presence.NodeFanout;
import io.switchboard.presence.ToConnection;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.ClientError;
import io.switchboard.protocol.CloseCodes;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One client connection. It owns the socket's outgoing side: every message for this client passes
 * through it, in order, and a client that stops reading is closed with 1013 instead of growing a queue.
 *
 * <p>For an authenticated user it registers with the user's {@link UserPresence} entity when it starts,
 * re-sending the registration until the entity acknowledges it, and unregisters when it stops. It
 * watches the entity: when the entity stops (its shard moved, or its node died) the connection registers
 * again as a <em>rejoin</em>, so the new incarnation adopts it without announcing the user again.
 * Anonymous connections have no presence at all.
 *
 * <p>Client messages become requests to the app's handler, one at a time and in the order sent; at
 * most {@code maxInFlight} may be outstanding before the actor stops reading from the socket, and a
 * client that still floods past {@code maxQueued} is closed with 1013. Every request ends in exactly
 * one of: the handler's reply (or none), {@code {"error": ..., "requestId": ...}} when it failed, or
 * {@code {"error": "timeout", ...}}, after which its late answer is dropped.
 *
 * <p>The socket closing stops the actor; the actor stopping closes the socket. State is this node's
 * only: when the node dies, the connection is gone with it and the entity's watch removes it.
 */
public final class ConnectionActor extends AbstractBehavior<ToConnection>
    implements DirectReceive.Handler<ToConnection> {

  /** This actor's own messages; what presence tells it are the {@link ToConnection} records. */
  public interface Command extends ToConnection {}

  /** A complete message the client sent. */
  public record FromClient(InboundFrame frame) implements Command {}

  /** The transport saw the socket close. */
  public enum SocketClosed implements Command {
    INSTANCE
  }

  private record PresenceStopped(ActorRef<UserPresence.Command> presence) implements Command {}

  /** The handler finished the request: {@code reply} (may be null) or {@code error}. */
  private record HandlerDone(String requestId, Object reply, Throwable error) implements Command {}

  private record HandlerTimedOut(String requestId) implements Command {}

  /** The handler replied to this connection while handling {@code requestId}. */
  private record HandlerReply(String requestId, OutboundMessage message) implements Command {}

  /** A client message for the handler; {@code clientId}: the id of a request envelope, else null. */
  private record Request(String id, Object data, JsonNode clientId) {}

  /** Re-send the registration, unless a later send or its answer replaced re-send {@code generation}. */
  private record RetryRegister(int generation) implements Command {}

  /** The token's {@code exp} has come and no refresh moved it. */
  private enum TokenExpired implements Command {
    INSTANCE
  }

  /** What a client sends to control its connection instead of messaging the app: a JSON object with this key. */
  static final String CONTROL_KEY = "$switchboard";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorContext<ToConnection> context;
  private final ActorRef<ToConnection> self;
  private final TimerScheduler<ToConnection> timers;
  private final String connectionId;
  private final String node;
  /** The user of the token the connection opened with, or of the latest refresh. */
  private AuthenticatedUser user;
  private final Socket socket;
  private final RecipientRef<UserPresence.Command> presence;
  private final Duration registerRetry;
  /**
   * Wait before the next re-send of the registration: {@code registerRetry}, doubling while it stays
   * unanswered, up to {@link #MAX_RETRY_BACKOFF} times it. A region that cannot place the user's shard
   * yet buffers every re-send (seen: 100k buffered on a starved three-node cluster, 20 per connection);
   * backing off keeps that burst small. Any sign that the entity restarted starts over at the first wait.
   */
  private Duration nextRetry;
  private static final int MAX_RETRY_BACKOFF = 8;
  /**
   * The registration's scheduled re-send, null once answered. On the system's scheduler, not the
   * actor's timers: Pekko gives every actor that receives a timer message a logging context of its own
   * (a logger and its path as a string, about 190 bytes kept for the actor's life), and on a loaded
   * cluster most connections wait for one re-send (class histograms of three nodes, BENCHMARKS.md §1).
   */
  private Cancellable retry;
  private int retryGeneration;
  private final ConnectionRegistry registry;
  /** This node's {@link NodeFanout}, named in the registration. */
  private final ActorRef<NodeFanout.Command> fanout;
  private final long openedAt = System.currentTimeMillis();
  private final Handling handling;
  private final ArrayDeque<Request> waiting = new ArrayDeque<>();
  private String activeRequest;
  private boolean readingPaused;
  private ActorRef<UserPresence.Command> watchedEntity;
  private boolean rejoin;
  /** Client messages per second this connection may send (beyond: an error reply, not the handler). */
  private final TokenBucket rate;
  private final SwitchboardMetrics metrics;
  /** When the active request went to the handler (System.nanoTime). */
  private long activeSince;
  /** The client's id of the active request when it came in an envelope, else null. */
  private JsonNode activeClientId;
  /** The active envelope request has had its one reply. */
  private boolean activeAnswered;
  static final String RATE_LIMITED = "rate limit exceeded";

  /**
   * @param user the authenticated user, or null for an anonymous connection
   * @param presence the user's entity (through sharding), or null for an anonymous connection
   */
  public static Behavior<ToConnection> create(
      String connectionId,
      String node,
      AuthenticatedUser user,
      Socket socket,
      RecipientRef<UserPresence.Command> presence,
      Duration registerRetry,
      ConnectionRegistry registry,
      Handling handling) {
    // Every log line of this connection carries its id and user (never its token or messages).
    Map<String, String> mdc =
        Map.of("connectionId", connectionId, "userId", user == null ? "-" : user.id());
    return Behaviors.withMdc(ToConnection.class, mdc, Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new ConnectionActor(
                        context,
                        timers,
                        connectionId,
                        node,
                        user,
                        socket,
                        presence,
                        registerRetry,
                        registry,
                        handling))));
  }

  private ConnectionActor(
      ActorContext<ToConnection> context,
      TimerScheduler<ToConnection> timers,
      String connectionId,
      String node,
      AuthenticatedUser user,
      Socket socket,
      RecipientRef<UserPresence.Command> presence,
      Duration registerRetry,
      ConnectionRegistry registry,
      Handling handling) {
    super(context);
    this.context = context;
    this.self = context.getSelf();
    this.timers = timers;
    this.connectionId = connectionId;
    this.node = node;
    this.user = user;
    this.socket = socket;
    this.presence = presence;
    this.registerRetry = registerRetry;
    this.nextRetry = registerRetry;
    this.registry = registry;
    this.fanout = NodeFanout.get(context.getSystem()).ref();
    this.handling = handling;
    this.rate = new TokenBucket(handling.ratePerSecond(), handling.rateBurst(), System.nanoTime());
    this.metrics = SwitchboardMetrics.get(context.getSystem());
    scheduleExpiry();
    registry.add(connectionId, context.getSelf(), user == null ? null : user.id());
    if (presence != null) {
      register();
    }
  }

  @Override
  public Receive<ToConnection> createReceive() {
    return new DirectReceive<>(this);
  }

  @Override
  public Behavior<ToConnection> onMessage(ToConnection command) {
    if (command instanceof ToConnection.Deliver deliver) {
      return onDeliver(deliver);
    } else if (command instanceof FromClient fromClient) {
      return onFromClient(fromClient);
    } else if (command instanceof HandlerDone done) {
      return onHandlerDone(done);
    } else if (command instanceof HandlerReply reply) {
      return onHandlerReply(reply);
    } else if (command instanceof HandlerTimedOut timedOut) {
      return onHandlerTimedOut(timedOut);
    } else if (command instanceof ToConnection.Close close) {
      return onClose(close);
    } else if (command instanceof ToConnection.Registered registered) {
      return onRegistered(registered);
    } else if (command == SocketClosed.INSTANCE) {
      return Behaviors.stopped();
    } else if (command instanceof PresenceStopped stopped) {
      return onPresenceStopped(stopped);
    } else if (command instanceof RetryRegister retrying) {
      return retrying.generation() == retryGeneration ? retryRegister() : this;
    } else if (command == TokenExpired.INSTANCE) {
      closeSocket(CloseCodes.TOKEN_EXPIRED, "token expired");
      return Behaviors.stopped();
    } else if (command instanceof ToConnection.ConfirmRegistration) {
      return register();
    }
    return Behaviors.unhandled();
  }

  @Override
  public Behavior<ToConnection> onSignal(Signal signal) {
    return signal instanceof PostStop ? onPostStop() : Behaviors.unhandled();
  }

  /** Registers with the user's entity, from the first wait between re-sends. */
  private Behavior<ToConnection> register() {
    nextRetry = registerRetry;
    return sendRegistration();
  }

  private Behavior<ToConnection> retryRegister() {
    Duration doubled = nextRetry.multipliedBy(2);
    Duration longest = registerRetry.multipliedBy(MAX_RETRY_BACKOFF);
    nextRetry = doubled.compareTo(longest) > 0 ? longest : doubled;
    return sendRegistration();
  }

  private Behavior<ToConnection> sendRegistration() {
    presence.tell(
        new UserPresence.Register(connectionId, node, openedAt, context.getSelf(), fanout, rejoin));
    // Up to a quarter later, so that connections that opened together do not re-send together.
    long jitter = ThreadLocalRandom.current().nextLong(nextRetry.toMillis() / 4 + 1);
    cancelRetry();
    retry =
        context.scheduleOnce(nextRetry.plusMillis(jitter), self, new RetryRegister(retryGeneration));
    return this;
  }

  private Behavior<ToConnection> onDeliver(ToConnection.Deliver deliver) {
    if (send(deliver.message())) {
      return this;
    }
    closeSocket(CloseCodes.TRY_AGAIN_LATER, "outgoing buffer full");
    return Behaviors.stopped();
  }

  private Behavior<ToConnection> onClose(ToConnection.Close close) {
    closeSocket(close.code(), close.reason());
    return Behaviors.stopped();
  }

  private Behavior<ToConnection> onRegistered(ToConnection.Registered registered) {
    cancelRetry();
    if (!registered.presence().equals(watchedEntity)) {
      if (watchedEntity != null) {
        context.unwatch(watchedEntity);
      }
      watchedEntity = registered.presence();
      context.watchWith(watchedEntity, new PresenceStopped(watchedEntity));
    }
    // From now on the user is known to be online with this connection: any later registration
    // (the entity moved) must not announce the user again.
    rejoin = true;
    return this;
  }

  /** No re-send pending from here on: one already queued finds its generation gone. */
  private void cancelRetry() {
    if (retry != null) {
      retry.cancel();
      retry = null;
    }
    retryGeneration++;
  }

  private Behavior<ToConnection> onPresenceStopped(PresenceStopped stopped) {
    if (!stopped.presence().equals(watchedEntity)) {
      return this;
    }
    watchedEntity = null;
    return register();
  }

  // --- requests to the app's handler ----------------------------------------------------------

  /** Sends a frame to the client, counted; false when its outgoing buffer is full. */
  private boolean send(OutboundMessage message) {
    boolean sent = socket.send(message);
    if (sent) {
      metrics.messagesOut.increment();
    }
    return sent;
  }

  private void closeSocket(int code, String reason) {
    metrics.closed(code);
    context.getLog().debug("closing with {} ({})", code, reason);
    socket.close(code, reason);
  }

  private Behavior<ToConnection> onFromClient(FromClient message) {
    metrics.messagesIn.increment();
    InboundFrame frame = message.frame();
    JsonNode clientId = null;
    JsonNode control = control(frame);
    String requestId = RandomIds.next();
    if (!rate.tryTake(System.nanoTime())) {
      // Every frame counts, control frames too (a refresh costs a signature check).
      metrics.rateLimited.increment();
      JsonNode id = control == null ? null : control.get("id");
      sendError(RATE_LIMITED, requestId, id != null && (id.isTextual() || id.isNumber()) ? id : null);
      return this;
    }
    if (control != null) {
      if (!control.path(CONTROL_KEY).asText().equals("request")) {
        return onControl(control);
      }
      // {"$switchboard": "request", "id": ..., "data": ...}: the reply comes back with that id.
      clientId = control.get("id");
      if (clientId == null || !(clientId.isTextual() || clientId.isNumber())) {
        return controlReply("request", "a request needs an id (a string or a number)", null);
      }
      try {
        frame = requestFrame(control.path("data"));
      } catch (IllegalArgumentException e) {
        sendError(e.getMessage(), requestId, clientId);
        return this;
      }
    }
    if (handling.handler() == null) {
      sendError("no request handler is configured on this node", requestId, clientId);
      return this;
    }
    Object data;
    try {
      data = handling.dataType().decode(frame);
    } catch (DataType.InvalidMessageException e) {
      sendError(e.getMessage(), requestId, clientId);
      return this;
    }
    waiting.add(new Request(requestId, data, clientId));
    if (outstanding() > handling.maxQueued()) {
      closeSocket(CloseCodes.TRY_AGAIN_LATER, "too many outstanding requests");
      return Behaviors.stopped();
    }
    if (outstanding() >= handling.maxInFlight() && !readingPaused) {
      readingPaused = true;
      socket.pauseReading();
    }
    startNextRequest();
    return this;
  }

  // --- the token's lifetime --------------------------------------------------------------------

  /** Closes the connection with 4001 at the token's {@code exp}, if it has one. */
  private void scheduleExpiry() {
    timers.cancel(TokenExpired.INSTANCE);
    Object exp = user == null ? null : user.claims().get("exp");
    if (exp instanceof Number seconds) {
      long left = seconds.longValue() * 1000 - System.currentTimeMillis();
      timers.startSingleTimer(TokenExpired.INSTANCE, Duration.ofMillis(Math.max(0, left)));
    }
  }

  /** The frame as a control message ({@code {"$switchboard": ...}}), or null when it is for the app. */
  private static JsonNode control(InboundFrame frame) {
    String text = frame.text();
    if (text == null || !text.contains(CONTROL_KEY) || !text.stripLeading().startsWith("{")) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(text);
      return node != null && node.isObject() && node.has(CONTROL_KEY) ? node : null;
    } catch (JsonProcessingException e) {
      return null; // not JSON: the app's data type decides what to do with it
    }
  }

  /**
   * {@code {"$switchboard": "refresh", "token": JWT}}: a fresh token for the same user moves the
   * connection's expiry (answered {@code {"$switchboard": "refreshed", "exp": ...}}); an invalid one is
   * answered with an error and changes nothing; one for another user closes the connection (4003).
   */
  private Behavior<ToConnection> onControl(JsonNode control) {
    String command = control.path(CONTROL_KEY).asText();
    if (!command.equals("refresh")) {
      return controlReply(command, "unknown command; the commands are request and refresh", null);
    }
    if (user == null || handling.tokens() == null) {
      return controlReply(command, "an anonymous connection has no token to refresh", null);
    }
    TokenVerifier.Result result = handling.tokens().verify(control.path("token").asText(""));
    if (result instanceof TokenVerifier.Rejected rejected) {
      return controlReply(command, rejected.reason(), null);
    }
    AuthenticatedUser fresh = ((TokenVerifier.Verified) result).user();
    if (!fresh.id().equals(user.id())) {
      closeSocket(CloseCodes.WRONG_USER, "refresh token is for another user");
      return Behaviors.stopped();
    }
    user = fresh;
    scheduleExpiry();
    return controlReply("refreshed", null, fresh.claims().get("exp"));
  }

  private Behavior<ToConnection> controlReply(String command, String error, Object exp) {
    ObjectNode reply = control(command);
    if (error != null) {
      reply.put("error", error);
    } else {
      reply.set("exp", JSON.valueToTree(exp));
    }
    sendControl(reply);
    return this;
  }

  /** A control frame to fill in: {@code {"$switchboard": kind, ...}}, its fields in the order added. */
  private static ObjectNode control(String kind) {
    return JSON.createObjectNode().put(CONTROL_KEY, kind);
  }

  private void sendControl(ObjectNode frame) {
    send(OutboundMessage.text(frame.toString()));
  }

  /** JSON text this node made itself (an {@link OutboundMessage} of kind JSON), as a tree. */
  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an outbound JSON message is not JSON", e);
    }
  }

  private int outstanding() {
    return waiting.size() + (activeRequest == null ? 0 : 1);
  }

  private void startNextRequest() {
    if (activeRequest != null || waiting.isEmpty()) {
      return;
    }
    Request request = waiting.poll();
    activeRequest = request.id();
    activeClientId = request.clientId();
    activeAnswered = false;
    activeSince = System.nanoTime();
    timers.startSingleTimer(HandlerTimedOut.class, new HandlerTimedOut(request.id()), handling.timeout());
    CompletionStage<?> result;
    try {
      result =
          handling
              .handler()
              .handle(
                  new SocketRequest(connectionId, request.data(), request.id(), user),
                  new Requester(request.id()));
    } catch (Exception | LinkageError e) {
      result = CompletableFuture.failedFuture(e);
    }
    if (result == null) {
      result = CompletableFuture.completedFuture(null);
    }
    context.pipeToSelf(result, (reply, error) -> new HandlerDone(request.id(), reply, error));
  }

  private Behavior<ToConnection> onHandlerDone(HandlerDone done) {
    if (!done.requestId().equals(activeRequest)) {
      return this; // timed out earlier: the late answer is dropped
    }
    metrics.handlerLatency.record(System.nanoTime() - activeSince, java.util.concurrent.TimeUnit.NANOSECONDS);
    if (done.error() != null) {
      metrics.handlerErrors.increment();
      context.getLog().warn("request {}: the handler failed: {}", done.requestId(), describe(done.error()));
      failActive(describe(done.error()), done.requestId());
    } else if (done.reply() != null) {
      reply(OutboundMessage.of(done.reply()));
    } else if (activeClientId != null) {
      reply(null); // an envelope always gets a reply, so the client's promise settles
    }
    return finishActiveRequest();
  }

  private Behavior<ToConnection> onHandlerTimedOut(HandlerTimedOut timeout) {
    if (!timeout.requestId().equals(activeRequest)) {
      return this;
    }
    metrics.handlerTimeouts.increment();
    context.getLog().info("request {}: the handler timed out", timeout.requestId());
    failActive("timeout", timeout.requestId());
    return finishActiveRequest();
  }

  private Behavior<ToConnection> onHandlerReply(HandlerReply reply) {
    if (reply.requestId().equals(activeRequest)) {
      reply(reply.message());
    }
    return this;
  }

  private Behavior<ToConnection> finishActiveRequest() {
    timers.cancel(HandlerTimedOut.class);
    activeRequest = null;
    if (readingPaused && outstanding() <= handling.maxInFlight() / 2) {
      readingPaused = false;
      socket.resumeReading();
    }
    startNextRequest();
    return this;
  }

  private static String describe(Throwable error) {
    Throwable cause = error;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
  }

  private void sendError(String error, String requestId) {
    sendError(error, requestId, null);
  }

  /** An error to the client: {@code {"error", "requestId"}}, or in a reply envelope for {@code clientId}. */
  private void sendError(String error, String requestId, JsonNode clientId) {
    if (clientId == null) {
      sendControl(JSON.valueToTree(new ClientError(error, requestId)));
      return;
    }
    ObjectNode reply = control("reply");
    reply.set("id", clientId);
    reply.put("error", error);
    reply.put("requestId", requestId);
    sendControl(reply);
  }

  /** The active request failed: an error to the client, unless its envelope already had its reply. */
  private void failActive(String error, String requestId) {
    if (activeClientId != null && activeAnswered) {
      return;
    }
    activeAnswered = true;
    sendError(error, requestId, activeClientId);
  }

  /**
   * The handler's answer to the active request: as is, or, for a request envelope,
   * {@code {"$switchboard": "reply", "id", "data"}} (a JSON value or a string; bytes as
   * {@code "binary": base64}; {@code "data": null} when the handler answered nothing).
   */
  private void reply(OutboundMessage message) {
    if (activeClientId == null) {
      send(message);
      return;
    }
    if (activeAnswered) {
      return; // an envelope gets one reply: the handler's socket.reply() came first
    }
    activeAnswered = true;
    ObjectNode reply = control("reply");
    reply.set("id", activeClientId);
    if (message == null) {
      reply.putNull("data");
    } else {
      switch (message.kind()) {
        case JSON -> reply.set("data", parse(message.text()));
        case TEXT -> reply.put("data", message.text());
        case BINARY -> reply.put("binary", java.util.Base64.getEncoder().encodeToString(message.bytes()));
      }
    }
    sendControl(reply);
  }

  /**
   * What an envelope's {@code data} is for the configured data type: JSON as JSON; for "string", a
   * JSON string's text (another value as its JSON text); for "binary", a base64 string's bytes.
   */
  private InboundFrame requestFrame(JsonNode data) {
    return switch (handling.dataType()) {
      case JSON -> InboundFrame.text(data.toString());
      case STRING -> InboundFrame.text(data.isTextual() ? data.asText() : data.toString());
      case BINARY -> {
        if (!data.isTextual()) {
          throw new IllegalArgumentException("binary data in a request envelope must be a base64 string");
        }
        try {
          yield InboundFrame.binary(java.util.Base64.getDecoder().decode(data.asText()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("binary data in a request envelope is not valid base64");
        }
      }
    };
  }

  /** The {@link RequestSocket} of one request; its methods may be called from any thread. */
  private final class Requester implements RequestSocket {
    private final String requestId;

    Requester(String requestId) {
      this.requestId = requestId;
    }

    @Override
    public CompletionStage<Integer> send(Object message) {
      if (user != null) {
        return handling.messaging().send(user.id(), message);
      }
      self.tell(new ToConnection.Deliver(OutboundMessage.of(message)));
      return CompletableFuture.completedFuture(1);
    }

    @Override
    public void reply(Object message) {
      self.tell(new HandlerReply(requestId, OutboundMessage.of(message)));
    }

    @Override
    public Recipients to(Collection<String> userIds) {
      return handling.messaging().to(userIds);
    }

    @Override
    public CompletionStage<Boolean> isOnline(String userId) {
      return handling.messaging().isOnline(userId);
    }
  }

  private Behavior<ToConnection> onPostStop() {
    cancelRetry();
    if (presence != null) {
      presence.tell(new UserPresence.Unregister(connectionId));
    }
    registry.remove(connectionId, context.getSelf());
    socket.close(1000, "");
    return this;
  }
}
