package io.switchboard.cluster;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A {@link Receive} that hands every message and signal to its actor's own two methods, for the actors
 * there is one of per connection. {@code newReceiveBuilder()} keeps, in every actor it is built for, a
 * case object and a lambda per message type: about 1.4 KB per connection for a connection actor and its
 * user's entity (class histograms at 19,000 connections, BENCHMARKS.md §1). This is one small object.
 */
public final class DirectReceive<T> extends Receive<T> {

  /** What an actor implements to be received by a {@link DirectReceive}. */
  public interface Handler<T> {
    /** The next behavior for {@code message}, or {@link Behaviors#unhandled()}. */
    Behavior<T> onMessage(T message) throws Exception;

    /** The next behavior for {@code signal}, or {@link Behaviors#unhandled()}: the default. */
    default Behavior<T> onSignal(Signal signal) throws Exception {
      return Behaviors.unhandled();
    }
  }

  private final Handler<T> handler;

  public DirectReceive(Handler<T> handler) {
    this.handler = handler;
  }

  @Override
  public Behavior<T> receiveMessage(T message) throws Exception {
    return handler.onMessage(message);
  }

  @Override
  public Behavior<T> receiveSignal(Signal signal) throws Exception {
    return handler.onSignal(signal);
  }
}
