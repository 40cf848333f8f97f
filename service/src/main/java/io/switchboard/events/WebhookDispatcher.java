package io.switchboard.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.switchboard.metrics.SwitchboardMetrics;
import io.switchboard.protocol.PresenceEvent;
import io.switchboard.protocol.Signatures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSTs the presence events decided on this node to the app's webhook ({@code EVENTS_WEBHOOK_URL}),
 * signed like handler requests (see {@link Signatures}), with the event id in
 * {@value #EVENT_ID_HEADER}.
 *
 * <p>Guarantee: each event decided on a node that keeps running is delivered at least once, unless
 * the app fails it {@code maxAttempts} times; a retry carries the same event id, so the app can
 * deduplicate. Events of one user go one at a time, in order: the next is sent only once the previous
 * was answered 2xx or given up, with exponential backoff (plus jitter) between attempts. Nothing is
 * dropped silently: an event given up, or still queued when the node stops and the drain timeout has
 * passed, is logged at WARN with its id. Events queued on a node that crashes are lost with it. A user
 * whose entity moves between nodes has events sent from both nodes for a while: order them by
 * {@code seq}.
 */
public final class WebhookDispatcher extends AbstractBehavior<WebhookDispatcher.Command> {
  public static final String EVENT_ID_HEADER = "X-Switchboard-Event-Id";
  private static final Logger log = LoggerFactory.getLogger(WebhookDispatcher.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  public interface Command {}

  /** An event decided on this node. */
  public record Enqueue(PresenceEvent event) implements Command {}

  /** Answers (with an empty list) once every queue is empty. */
  public record Drain(ActorRef<Drained> replyTo) implements Command {}

  /** Logs at WARN, and answers, the ids of every event still queued (when the node stops). */
  public record ReportUndelivered(ActorRef<Drained> replyTo) implements Command {}

  public record Drained(List<String> undeliveredEventIds) {}

  private record Attempted(String userId, String eventId, boolean delivered, String problem)
      implements Command {}

  private record Retry(String userId) implements Command {}

  /** Webhook settings; {@code maxQueued} bounds the events waiting on this node. */
  public record Settings(
      String url,
      String secret,
      Duration timeout,
      Duration retryInitial,
      Duration retryMax,
      int maxAttempts,
      int maxQueued) {}

  private static final class Pending {
    final PresenceEvent event;
    int attempts;

    Pending(PresenceEvent event) {
      this.event = event;
    }
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Settings settings;
  private final URI url;
  private final HttpClient http;
  private final Map<String, ArrayDeque<Pending>> queues = new HashMap<>();
  private final List<ActorRef<Drained>> drainers = new ArrayList<>();
  private int queued;

  public static Behavior<Command> create(Settings settings) {
    return Behaviors.setup(
        context -> Behaviors.withTimers(timers -> new WebhookDispatcher(context, timers, settings)));
  }

  private final SwitchboardMetrics metrics;

  private WebhookDispatcher(
      ActorContext<Command> context, TimerScheduler<Command> timers, Settings settings) {
    super(context);
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.metrics = SwitchboardMetrics.get(context.getSystem());
    this.url = URI.create(settings.url());
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(settings.timeout())
            .build();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Enqueue.class, this::onEnqueue)
        .onMessage(Attempted.class, this::onAttempted)
        .onMessage(Retry.class, retry -> attempt(retry.userId()))
        .onMessage(Drain.class, this::onDrain)
        .onMessage(ReportUndelivered.class, this::onReportUndelivered)
        .build();
  }

  private Behavior<Command> onEnqueue(Enqueue enqueue) {
    PresenceEvent event = enqueue.event();
    if (queued >= settings.maxQueued()) {
      log.warn(
          "webhook queue full ({} events): event {} ({} {} seq {}) is not delivered",
          queued, event.id(), event.userId(), event.kind(), event.seq());
      return this;
    }
    ArrayDeque<Pending> queue = queues.computeIfAbsent(event.userId(), u -> new ArrayDeque<>());
    queue.add(new Pending(event));
    queued++;
    if (queue.size() == 1) {
      attempt(event.userId());
    }
    return this;
  }

  private Behavior<Command> attempt(String userId) {
    ArrayDeque<Pending> queue = queues.get(userId);
    if (queue == null || queue.isEmpty()) {
      return this;
    }
    Pending head = queue.peek();
    head.attempts++;
    metrics.webhookAttempts.increment();
    if (head.attempts > 1) {
      metrics.webhookRetries.increment();
    }
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(head.event);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    long timestamp = System.currentTimeMillis() / 1000;
    HttpRequest post =
        HttpRequest.newBuilder(url)
            .timeout(settings.timeout())
            .header("Content-Type", "application/json")
            .header(EVENT_ID_HEADER, head.event.id())
            .header(Signatures.TIMESTAMP_HEADER, Long.toString(timestamp))
            .header(Signatures.SIGNATURE_HEADER, Signatures.sign(settings.secret(), timestamp, body))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    String eventId = head.event.id();
    context.pipeToSelf(
        http.sendAsync(post, HttpResponse.BodyHandlers.discarding()),
        (response, error) -> {
          if (error != null) {
            return new Attempted(userId, eventId, false, error.toString());
          }
          boolean ok = response.statusCode() / 100 == 2;
          return new Attempted(userId, eventId, ok, ok ? null : "HTTP " + response.statusCode());
        });
    return this;
  }

  private Behavior<Command> onAttempted(Attempted attempted) {
    ArrayDeque<Pending> queue = queues.get(attempted.userId());
    Pending head = queue == null ? null : queue.peek();
    if (head == null || !head.event.id().equals(attempted.eventId())) {
      return this;
    }
    if (attempted.delivered()) {
      done(attempted.userId(), queue);
    } else if (head.attempts >= settings.maxAttempts()) {
      metrics.webhookFailures.increment();
      log.warn(
          "webhook gave up on event {} ({} {} seq {}) after {} attempts, last: {}",
          head.event.id(), head.event.userId(), head.event.kind(), head.event.seq(), head.attempts,
          attempted.problem());
      done(attempted.userId(), queue);
    } else {
      timers.startSingleTimer(
          "retry-" + attempted.userId(), new Retry(attempted.userId()), backoff(head.attempts));
    }
    return this;
  }

  private void done(String userId, ArrayDeque<Pending> queue) {
    queue.poll();
    queued--;
    if (queue.isEmpty()) {
      queues.remove(userId);
      if (queued == 0) {
        drainers.forEach(d -> d.tell(new Drained(List.of())));
        drainers.clear();
      }
    } else {
      attempt(userId);
    }
  }

  /** Exponential backoff from retryInitial, capped at retryMax, with up to 20% jitter. */
  private Duration backoff(int attempts) {
    long base = settings.retryInitial().toMillis() << Math.min(attempts - 1, 20);
    long capped = Math.min(base, settings.retryMax().toMillis());
    return Duration.ofMillis(capped + ThreadLocalRandom.current().nextLong(capped / 5 + 1));
  }

  private Behavior<Command> onDrain(Drain drain) {
    if (queued == 0) {
      drain.replyTo().tell(new Drained(List.of()));
    } else {
      drainers.add(drain.replyTo());
    }
    return this;
  }

  private Behavior<Command> onReportUndelivered(ReportUndelivered report) {
    List<String> ids = new ArrayList<>();
    queues.values().forEach(queue -> queue.forEach(p -> ids.add(p.event.id())));
    if (!ids.isEmpty()) {
      log.warn("node stopping with {} webhook events undelivered: {}", ids.size(), ids);
    }
    report.replyTo().tell(new Drained(ids));
    return this;
  }
}
