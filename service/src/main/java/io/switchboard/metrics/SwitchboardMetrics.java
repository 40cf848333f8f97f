package io.switchboard.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * One node's metrics, in Prometheus form on the API's {@code GET /metrics}. An extension of the node's
 * actor system, so that every actor of a node (and only of that node, also with several nodes in one
 * JVM) counts into the same registry: {@code SwitchboardMetrics.get(context.getSystem())}.
 */
public final class SwitchboardMetrics implements Extension {
  private static final ExtensionId<SwitchboardMetrics> ID =
      new ExtensionId<>() {
        @Override
        public SwitchboardMetrics createExtension(ActorSystem<?> system) {
          return new SwitchboardMetrics();
        }
      };

  public static SwitchboardMetrics get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  /** Client messages received (text and binary, control frames included). */
  public final Counter messagesIn;
  /** Frames handed to clients' sockets: sends, replies, errors. */
  public final Counter messagesOut;
  /** Sends to a user decided on this node (their entity lives here). */
  public final Counter sends;
  /** Connections those sends were handed to (the sum of the API's {@code delivered}). */
  public final Counter deliveries;
  public final Timer handlerLatency;
  public final Counter handlerTimeouts;
  public final Counter handlerErrors;
  public final Counter rateLimited;
  public final Counter webhookAttempts;
  public final Counter webhookRetries;
  public final Counter webhookFailures;
  /** Users whose entity lives on this node and who are online. */
  public final AtomicInteger onlineUsers = new AtomicInteger();
  /** User entities running on this node. */
  public final AtomicInteger entities = new AtomicInteger();

  private SwitchboardMetrics() {
    messagesIn = counter("switchboard.messages.in", "client messages received");
    messagesOut = counter("switchboard.messages.out", "frames sent to clients");
    sends = counter("switchboard.sends", "sends to users decided by entities on this node");
    deliveries = counter("switchboard.deliveries", "connections those sends were handed to");
    handlerLatency =
        Timer.builder("switchboard.handler.latency")
            .description("time from a client message to the handler's answer")
            .publishPercentiles(0.5, 0.99)
            .distributionStatisticExpiry(Duration.ofMinutes(1))
            .register(registry);
    handlerTimeouts = counter("switchboard.handler.timeouts", "handler requests that timed out");
    handlerErrors = counter("switchboard.handler.errors", "handler requests that failed");
    rateLimited = counter("switchboard.rate.limited", "client messages refused by the rate limit");
    webhookAttempts = counter("switchboard.webhook.attempts", "webhook POSTs");
    webhookRetries = counter("switchboard.webhook.retries", "webhook POSTs that were retries");
    webhookFailures = counter("switchboard.webhook.failures", "webhook events given up after every attempt");
    Gauge.builder("switchboard.online.users", onlineUsers, AtomicInteger::get)
        .description("online users whose entity lives on this node")
        .register(registry);
    Gauge.builder("switchboard.presence.entities", entities, AtomicInteger::get)
        .description("user entities (sharded) running on this node")
        .register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  /** Adds the cluster's membership gauges (a node calls it once its cluster extension is up). */
  public void bindCluster(Cluster cluster) {
    for (MemberStatus status :
        new MemberStatus[] {
          MemberStatus.joining(), MemberStatus.weaklyUp(), MemberStatus.up(), MemberStatus.leaving(),
          MemberStatus.exiting(), MemberStatus.down()
        }) {
      String name = status.toString().toLowerCase(java.util.Locale.ROOT);
      Gauge.builder("switchboard.cluster.members", cluster, c -> count(c, status))
          .tag("status", name)
          .description("cluster members by status, as this node sees them")
          .register(registry);
    }
    Gauge.builder("switchboard.cluster.unreachable", cluster, c -> c.state().getUnreachable().size())
        .description("members this node's view marks unreachable")
        .register(registry);
  }

  private static double count(Cluster cluster, MemberStatus status) {
    int n = 0;
    for (Member member : cluster.state().getMembers()) {
      if (member.status().equals(status)) {
        n++;
      }
    }
    return n;
  }

  private Counter counter(String name, String description) {
    return Counter.builder(name).description(description).register(registry);
  }

  /** A gauge read from {@code source} when scraped (e.g. the open connections). */
  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).strongReference(true).register(registry);
  }

  /** Counts a close of a client's socket with {@code code}. */
  public void closed(int code) {
    Counter.builder("switchboard.closes").tag("code", Integer.toString(code))
        .description("client sockets closed by the node, by close code")
        .register(registry)
        .increment();
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }
}
