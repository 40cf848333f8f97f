package io.switchboard.connection;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.auth.AuthenticatedUser;
import io.switchboard.cluster.OutboundMessage;
import io.switchboard.handler.RequestSocket;
import io.switchboard.handler.SocketRequest;
import io.switchboard.messaging.Recipients;
import io.switchboard.metrics.SwitchboardMetrics;
import io.switchboard.presence.ToConnection;
import io.switchboard.protocol.CloseCodes;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * A connection's requests to the app's handler: one at a time, in the order the client sent them. At
 * most {@code maxInFlight} may be outstanding (handed to the handler or waiting for it) before the
 * socket stops being read, until no more than half that many are; past {@code maxQueued} the connection
 * is closed with 1013. Every request ends in exactly one of: the handler's reply (or none), {@code {"error": ...,
 * "requestId": ...}} when it failed, or {@code {"error": "timeout", ...}}, after which its late answer
 * is dropped. A request that came in an envelope gets exactly one {@code reply} with the client's id.
 *
 * <p>Made by the connection's actor for its first request, so that a connection that never sends one
 * holds nothing of it; the queue itself only once a request has to wait.
 */
final class HandlerRequests {

  /** A message of this unit to its connection's actor. */
  sealed interface Message extends ConnectionActor.Command {}

  /** The handler finished the request: {@code reply} (may be null) or {@code error}. */
  private record HandlerDone(String requestId, Object reply, Throwable error) implements Message {}

  private record HandlerTimedOut(String requestId) implements Message {}

  /** The handler replied to this connection while handling {@code requestId}. */
  private record HandlerReply(String requestId, OutboundMessage message) implements Message {}

  /** A client message for the handler; {@code clientId}: the id of a request envelope, else null. */
  private record Request(String id, Object data, JsonNode clientId) {}

  private final ActorContext<ToConnection> context;
  private final ActorRef<ToConnection> self;
  private final TimerScheduler<ToConnection> timers;
  private final String connectionId;
  private final Handling handling;
  private final SwitchboardMetrics metrics;
  private final ClientSocket client;
  private final Socket socket;
  /** The connection's user now (null: anonymous). */
  private final TokenLifetime tokens;
  /** Requests behind the active one; null until one had to wait. */
  private ArrayDeque<Request> waiting;
  private String activeRequest;
  /** When the active request went to the handler (System.nanoTime). */
  private long activeSince;
  /** The client's id of the active request when it came in an envelope, else null. */
  private JsonNode activeClientId;
  /** The active envelope request has had its one reply. */
  private boolean activeAnswered;
  private boolean readingPaused;

  HandlerRequests(
      ActorContext<ToConnection> context,
      TimerScheduler<ToConnection> timers,
      String connectionId,
      Handling handling,
      SwitchboardMetrics metrics,
      ClientSocket client,
      Socket socket,
      TokenLifetime tokens) {
    this.context = context;
    this.self = context.getSelf();
    this.timers = timers;
    this.connectionId = connectionId;
    this.handling = handling;
    this.metrics = metrics;
    this.client = client;
    this.socket = socket;
    this.tokens = tokens;
  }

  /**
   * Queues {@code data} (decoded by the handling's data type) for the handler as {@code requestId}, from
   * envelope {@code clientId} (null: a plain frame). False when the connection is closed: too many
   * requests outstanding.
   */
  boolean add(String requestId, Object data, JsonNode clientId) {
    Request request = new Request(requestId, data, clientId);
    int outstanding = outstanding() + 1;
    if (outstanding > handling.maxQueued()) {
      client.close(CloseCodes.TRY_AGAIN_LATER, "too many outstanding requests");
      return false;
    }
    if (outstanding >= handling.maxInFlight() && !readingPaused) {
      readingPaused = true;
      socket.pauseReading();
    }
    if (activeRequest == null) {
      start(request); // none waits while none is active
    } else {
      if (waiting == null) {
        waiting = new ArrayDeque<>();
      }
      waiting.add(request);
    }
    return true;
  }

  void onMessage(Message message) {
    if (message instanceof HandlerDone done) {
      onHandlerDone(done);
    } else if (message instanceof HandlerReply reply) {
      if (reply.requestId().equals(activeRequest)) {
        reply(reply.message());
      }
    } else if (message instanceof HandlerTimedOut timeout) {
      onHandlerTimedOut(timeout);
    }
  }

  private int outstanding() {
    return (waiting == null ? 0 : waiting.size()) + (activeRequest == null ? 0 : 1);
  }

  private void start(Request request) {
    activeRequest = request.id();
    activeClientId = request.clientId();
    activeAnswered = false;
    activeSince = System.nanoTime();
    timers.startSingleTimer(HandlerTimedOut.class, new HandlerTimedOut(request.id()), handling.timeout());
    AuthenticatedUser user = tokens == null ? null : tokens.user();
    CompletionStage<?> result;
    try {
      result =
          handling
              .handler()
              .handle(
                  new SocketRequest(connectionId, request.data(), request.id(), user),
                  new Requester(request.id(), user == null ? null : user.id()));
    } catch (Exception | LinkageError e) {
      result = CompletableFuture.failedFuture(e);
    }
    if (result == null) {
      result = CompletableFuture.completedFuture(null);
    }
    context.pipeToSelf(result, (reply, error) -> new HandlerDone(request.id(), reply, error));
  }

  private void onHandlerDone(HandlerDone done) {
    if (!done.requestId().equals(activeRequest)) {
      return; // timed out earlier: the late answer is dropped
    }
    metrics.handlerLatency.record(System.nanoTime() - activeSince, TimeUnit.NANOSECONDS);
    if (done.error() != null) {
      metrics.handlerErrors.increment();
      client.log().warn("request {}: the handler failed: {}", done.requestId(), describe(done.error()));
      failActive(describe(done.error()), done.requestId());
    } else if (done.reply() != null) {
      reply(OutboundMessage.of(done.reply()));
    } else if (activeClientId != null) {
      reply(null); // an envelope always gets a reply, so the client's promise settles
    }
    finishActiveRequest();
  }

  private void onHandlerTimedOut(HandlerTimedOut timeout) {
    if (!timeout.requestId().equals(activeRequest)) {
      return;
    }
    metrics.handlerTimeouts.increment();
    client.log().info("request {}: the handler timed out", timeout.requestId());
    failActive("timeout", timeout.requestId());
    finishActiveRequest();
  }

  private void finishActiveRequest() {
    timers.cancel(HandlerTimedOut.class);
    activeRequest = null;
    if (readingPaused && outstanding() <= handling.maxInFlight() / 2) {
      readingPaused = false;
      socket.resumeReading();
    }
    if (waiting != null && !waiting.isEmpty()) {
      start(waiting.poll());
    }
  }

  private static String describe(Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
  }

  /** The active request failed: an error to the client, unless its envelope already had its reply. */
  private void failActive(String error, String requestId) {
    if (activeClientId != null && activeAnswered) {
      return;
    }
    activeAnswered = true;
    client.sendError(error, requestId, activeClientId);
  }

  /** The handler's answer to the active request: as is, or in the reply to its envelope. */
  private void reply(OutboundMessage message) {
    if (activeClientId == null) {
      client.send(message);
      return;
    }
    if (activeAnswered) {
      return; // an envelope gets one reply: the handler's socket.reply() came first
    }
    activeAnswered = true;
    client.sendControl(ControlFrames.reply(activeClientId, message));
  }

  /** The {@link RequestSocket} of one request; its methods may be called from any thread. */
  private final class Requester implements RequestSocket {
    private final String requestId;
    /** The connection's user (it cannot change while the connection is open), null: anonymous. */
    private final String userId;

    Requester(String requestId, String userId) {
      this.requestId = requestId;
      this.userId = userId;
    }

    @Override
    public CompletionStage<Integer> send(Object message) {
      if (userId != null) {
        return handling.messaging().send(userId, message);
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
}
