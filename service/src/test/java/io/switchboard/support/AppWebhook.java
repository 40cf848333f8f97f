package io.switchboard.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.switchboard.protocol.PresenceEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The app's end of the presence webhook, kept as the README tells an app to keep it: events
 * deduplicated by id (a retry, or a repeat from another node, has the same id), here in arrival order,
 * each with the moment it arrived.
 */
public final class AppWebhook implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An event the app accepted for the first time, and when ({@link System#nanoTime()}). */
  public record Arrival(PresenceEvent event, long nanos) {}

  private final HttpServer server;
  private final Set<String> ids = new HashSet<>();
  private final List<Arrival> arrivals = new CopyOnWriteArrayList<>();

  private AppWebhook(HttpServer server) {
    this.server = server;
  }

  /** Listens at {@code host} on a free port; {@code onNew} sees each new event as it arrives. */
  public static AppWebhook start(String host, Consumer<PresenceEvent> onNew) {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(host, 0), 0);
      AppWebhook app = new AppWebhook(server);
      server.createContext("/events", exchange -> {
        PresenceEvent event = JSON.readValue(exchange.getRequestBody().readAllBytes(), PresenceEvent.class);
        long now = System.nanoTime();
        boolean isNew;
        synchronized (app) {
          isNew = app.ids.add(event.id());
          if (isNew) {
            app.arrivals.add(new Arrival(event, now));
          }
        }
        if (isNew) {
          onNew.accept(event);
        }
        exchange.sendResponseHeaders(204, -1);
        exchange.close();
      });
      server.start();
      return app;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static AppWebhook start(String host) {
    return start(host, event -> {});
  }

  /** The nodes' settings that send the events here (retrying quickly, as a test wants). */
  public Map<String, String> env() {
    return Map.of(
        "EVENTS_WEBHOOK_URL",
        "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort() + "/events",
        "EVENTS_WEBHOOK_SECRET", "webhook",
        "EVENTS_WEBHOOK_RETRY_INITIAL", "100ms");
  }

  /** Every event accepted so far, in arrival order. */
  public List<Arrival> arrivals() {
    return List.copyOf(arrivals);
  }

  /** The user's events accepted so far, in arrival order. */
  public List<PresenceEvent> events(String user) {
    return arrivals.stream().map(Arrival::event).filter(e -> e.userId().equals(user)).toList();
  }

  /** The kinds of the user's events accepted so far, in arrival order. */
  public List<PresenceEvent.Kind> kinds(String user) {
    return events(user).stream().map(PresenceEvent::kind).toList();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
