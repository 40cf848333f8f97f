import com.typesafe.config.ConfigFactory;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorCell;
import org.apache.pekko.actor.ActorRefWithCell;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Cell;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.impl.fusing.ActorGraphInterpreter;
import org.apache.pekko.stream.impl.fusing.GraphInterpreterShell;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;

/**
 * A bare Pekko HTTP 1.3 WebSocket route that holds idle connections, for the memory investigation
 * in BENCHMARKS.md ("What keeps Pekko HTTP's graph-building objects alive"). Not part of Switchboard.
 *
 * <p>Run with the service's jar on the class path (it carries Pekko and Pekko HTTP):
 *
 * <pre>
 * java -Xmx1g -XX:+UseSerialGC -cp service/target/switchboard.jar loadtest/probes/PekkoWebSocketProbe.java PORT MODE
 * </pre>
 *
 * MODE says how the route builds its handler:
 *
 * <ul>
 *   <li>{@code fresh}: a new handler flow for every connection (what most routes do);
 *   <li>{@code shared}: one handler flow blueprint for every connection;
 *   <li>{@code clear}: like {@code fresh}, and once the WebSocket stream runs, the response renderer's
 *       {@code closeMode} field in the connection's HTTP stream is set to null by reflection: the
 *       experiment that shows what that one field keeps alive.
 * </ul>
 *
 * Clients connect to {@code ws://127.0.0.1:PORT/ws}; the server never sends, and drops what it gets.
 */
public final class PekkoWebSocketProbe extends AllDirectives {
  private static final AtomicInteger cleared = new AtomicInteger();
  private static final AtomicInteger notFound = new AtomicInteger();

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    String mode = args.length > 1 ? args[1] : "fresh";
    ActorSystem system =
        ActorSystem.create(
            "probe",
            ConfigFactory.parseString(
                    "pekko.http.server.idle-timeout = infinite\n"
                        + "pekko.http.server.max-connections = 100000\n"
                        + "pekko.http.server.backlog = 4096\n"
                        + "pekko.http.server.websocket.periodic-keep-alive-max-idle = infinite\n"
                        + "pekko.loglevel = WARNING\n")
                .withFallback(ConfigFactory.defaultReference()));
    Route route = new PekkoWebSocketProbe().route(mode);
    Http.get(system).newServerAt("127.0.0.1", port).bind(route);
    System.out.println("probe listening on " + port + ", mode " + mode);
    if (mode.equals("clear")) {
      system
          .scheduler()
          .scheduleAtFixedRate(
              Duration.ofSeconds(5),
              Duration.ofSeconds(5),
              () -> System.out.println("closeMode cleared " + cleared + ", not found " + notFound),
              system.dispatcher());
    }
  }

  private Route route(String mode) {
    Flow<Message, Message, NotUsed> shared = idle(false);
    return path(
        "ws",
        () ->
            handleWebSocketMessages(
                switch (mode) {
                  case "shared" -> shared;
                  case "fresh" -> idle(false);
                  case "clear" -> idle(true);
                  default -> throw new IllegalArgumentException("mode: " + mode);
                }));
  }

  /** Takes every message and drops it; sends nothing; completes when the client closes. */
  private static Flow<Message, Message, NotUsed> idle(boolean clear) {
    Flow<Message, Message, NotUsed> flow =
        Flow.fromSinkAndSourceCoupled(Sink.<Message>ignore(), Source.<Message>maybe())
            .mapMaterializedValue(m -> NotUsed.getInstance());
    return clear ? flow.via(new ClearCloseMode()) : flow;
  }

  /**
   * A pass-through stage whose {@code preStart} runs inside the connection's stream actor (the
   * WebSocket flow is materialized there by the HTTP stream's protocol switch) and clears the
   * response renderer's {@code closeMode} in every interpreter of that actor.
   */
  private static final class ClearCloseMode extends GraphStage<FlowShape<Message, Message>> {
    private final Inlet<Message> in = Inlet.create("ClearCloseMode.in");
    private final Outlet<Message> out = Outlet.create("ClearCloseMode.out");
    private final FlowShape<Message, Message> shape = FlowShape.of(in, out);

    @Override
    public FlowShape<Message, Message> shape() {
      return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes attributes) {
      return new TimerGraphStageLogic(shape) {
        {
          setHandler(
              in,
              new AbstractInHandler() {
                @Override
                public void onPush() {
                  push(out, grab(in));
                }
              });
          setHandler(
              out,
              new AbstractOutHandler() {
                @Override
                public void onPull() {
                  pull(in);
                }
              });
        }

        @Override
        public void preStart() {
          clearOrRetry();
        }

        @Override
        public void onTimer(Object key) {
          clearOrRetry();
        }

        /**
         * The stream actor's cell, once its ref has been pointed at it (just after the actor starts,
         * a repointable ref may still show the unstarted cell: then again in 10 ms).
         */
        private void clearOrRetry() {
          Cell cell = ((ActorRefWithCell) interpreter().context()).underlying();
          if (!(cell instanceof ActorCell)) {
            scheduleOnce("retry", Duration.ofMillis(10));
            return;
          }
          ActorGraphInterpreter actor = (ActorGraphInterpreter) ((ActorCell) cell).actor();
          boolean found = false;
          scala.collection.Iterator<GraphInterpreterShell> shells = actor.activeInterpreters().iterator();
          while (shells.hasNext()) {
            for (GraphStageLogic logic : shells.next().interpreter().logics()) {
              found |= clearField(logic, "closeMode");
            }
          }
          (found ? cleared : notFound).incrementAndGet();
        }
      };
    }

    private static boolean clearField(Object target, String name) {
      for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) {
        for (Field field : c.getDeclaredFields()) {
          // Scala mangles the name of a field that inner classes use: ...$$anon$$closeMode.
          if (field.getName().equals(name) || field.getName().endsWith("$$" + name)) {
            try {
              field.setAccessible(true);
              field.set(target, null);
              return true;
            } catch (IllegalAccessException e) {
              throw new IllegalStateException(e);
            }
          }
        }
      }
      return false;
    }
  }
}
