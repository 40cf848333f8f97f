package io.switchboard.connection;

import com.typesafe.config.ConfigValueFactory;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.config.SwitchboardSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import javax.net.ssl.SSLContext;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.scaladsl.BidiFlow;
import scala.Option;
import scala.concurrent.duration.Duration;
import scala.concurrent.duration.FiniteDuration;

/**
 * The client-facing WebSocket listener on Pekko HTTP ({@code switchboard.wss.edge = pekko}): the same
 * admission, close codes, limits and keep-alive as the Netty edge, on Pekko HTTP's server and frame
 * layer with {@link PekkoSocketStage} in place of its message API (which cannot send the protocol's
 * close codes). The Netty edge is the default: it passes the same tests with less than a quarter of
 * this edge's live heap per idle connection (BENCHMARKS.md, section 1).
 */
public final class PekkoWebSocketServer implements WebSocketEdge {
  /** How long the frame layer waits for the client's close frame after sending its own. */
  private static final FiniteDuration CLOSE_TIMEOUT = FiniteDuration.create(3, TimeUnit.SECONDS);
  /** Sockets beyond the admission limit Pekko HTTP still accepts, so the admission answers 503. */
  private static final int ACCEPT_SLACK = 1_000;

  private final ActorSystem<?> system;
  private final SwitchboardSettings.Wss settings;
  private final SSLContext tls;
  private final Admission admission;
  private final ConnectionOpener opener;
  private final IntConsumer closes;
  /** Pekko HTTP's frame layer under each socket's stage: one blueprint, materialized per upgrade. */
  private final BidiFlow<FrameEvent, Object, Object, FrameEvent, NotUsed> frameLayer;
  /**
   * Upgraded sockets not yet closed: what the admission limits. Sockets still in their handshake are
   * bounded by Pekko HTTP's own max-connections, set a little above it.
   */
  private final AtomicInteger open = new AtomicInteger();
  private ServerBinding binding;

  /** @param tls null: plain ws */
  public PekkoWebSocketServer(
      ActorSystem<?> system,
      SwitchboardSettings.Wss settings,
      SSLContext tls,
      TokenVerifier verifier,
      boolean allowAnonymous,
      ConnectionOpener opener,
      IntConsumer closes) {
    this.system = system;
    this.settings = settings;
    this.tls = tls;
    this.opener = opener;
    this.closes = closes;
    this.admission = new Admission(settings.path(), verifier, allowAnonymous,
        settings.allowedOrigins(), settings.maxConnections(), () -> open.get() + 1);
    this.frameLayer =
        frameLayer(Logging.getLogger(Adapter.toClassic(system), PekkoWebSocketServer.class));
  }

  @Override
  public int start() throws Exception {
    ServerSettings server = ServerSettings.create(system.settings().config().withValue(
        "pekko.http.server.parsing.error-handler",
        ConfigValueFactory.fromAnyRef(MalformedRequestAnswer.class.getName())));
    // No idle timeout: every request here is refused with Connection: close or upgraded, and an
    // upgraded socket's stage closes it when the client goes quiet. The handshake has its own limit.
    server = server
        .withMaxConnections(settings.maxConnections() + ACCEPT_SLACK)
        .withBacklog(settings.acceptBacklog())
        .withTimeouts(server.getTimeouts().withIdleTimeout(Duration.Inf()));
    ServerBuilder builder = Http.get(system).newServerAt(settings.host(), settings.port())
        .withSettings(server);
    if (tls != null) {
      builder = builder.enableHttps(ConnectionContext.httpsServer(tls));
    }
    // Materialized per connection: from accept to a complete upgrade request (TLS handshake included)
    // within the handshake timeout, or the connection is closed (the flow completes: no error log).
    Flow<HttpRequest, HttpResponse, NotUsed> connection = Flow.of(HttpRequest.class)
        .map(this::handle)
        .initialTimeout(settings.handshakeTimeout())
        .recoverWithRetries(1, java.util.concurrent.TimeoutException.class, Source::empty);
    binding = builder.bindFlow(connection).toCompletableFuture().get(30, TimeUnit.SECONDS);
    return binding.localAddress().getPort();
  }

  private HttpResponse handle(HttpRequest request) {
    Optional<WebSocketUpgrade> upgrade = request.getAttribute(AttributeKeys.webSocketUpgrade);
    List<String> protocols = new ArrayList<>();
    for (HttpHeader header : request.getHeaders()) {
      if (header.is("sec-websocket-protocol")) {
        protocols.add(header.value());
      }
    }
    Admission.Decision decision = admission.decide(new Admission.Request(
        request.getUri().path(),
        request.method().equals(HttpMethods.GET) && upgrade.isPresent(),
        header(request, "origin"),
        header(request, "authorization"),
        request.getUri().query().get("token").orElse(null),
        request.getUri().query().get("protocol").orElse(null),
        protocols));
    if (decision instanceof Admission.Refused refused) {
      return refuse(refused);
    }
    AtomicLong lastRead = new AtomicLong(PekkoSocketStage.nowMillis());
    Admission.Admitted admitted = (Admission.Admitted) decision;
    PekkoSocketStage stage = new PekkoSocketStage(
        opener,
        admitted.user(),
        admitted.envelope(),
        settings,
        closes,
        lastRead,
        open);
    Flow<FrameEvent, FrameEvent, NotUsed> frames = Flow.<FrameEvent>create()
        .map(event -> {
          lastRead.set(PekkoSocketStage.nowMillis());
          return event;
        })
        .via(frameLayer.join(stage));
    return ((UpgradeToWebSocketLowLevel) upgrade.get()).handleFrames(
        asGraph(frames),
        Option.apply(Admission.selectedSubprotocol(protocols)));
  }

  /** Pekko HTTP's server-side masking and frame handling, one layer below its message API. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static BidiFlow<FrameEvent, Object, Object, FrameEvent, NotUsed> frameLayer(
      LoggingAdapter log) {
    BidiFlow masking = org.apache.pekko.http.impl.engine.ws.WebSocket.masking(true, Random::new);
    BidiFlow handling =
        org.apache.pekko.http.impl.engine.ws.WebSocket.frameHandling(true, CLOSE_TIMEOUT, log);
    return masking.atop(handling);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Graph<FlowShape<FrameEvent, FrameEvent>, Object> asGraph(
      Flow<FrameEvent, FrameEvent, NotUsed> flow) {
    return (Graph) flow.asScala();
  }

  private static String header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value).orElse(null);
  }

  private static HttpResponse refuse(Admission.Refused refused) {
    HttpResponse response = HttpResponse.create()
        .withStatus(refused.status())
        .withEntity(ContentTypes.APPLICATION_JSON, refused.body())
        .addHeader(Connection.create("close"));
    return refused.status() == 401
        ? response.addHeader(RawHeader.create("WWW-Authenticate", "Bearer"))
        : response;
  }

  @Override
  public void stopAccepting() {
    if (binding != null) {
      binding.unbind().toCompletableFuture().join();
    }
  }

  @Override
  public void close() {
    if (binding != null) {
      binding.terminate(java.time.Duration.ofSeconds(2)).toCompletableFuture().join();
    }
  }
}
