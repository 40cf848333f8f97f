package io.switchboard.handler;

import io.switchboard.messaging.Recipients;
import java.util.Collection;
import java.util.concurrent.CompletionStage;

/** What a handler can do while it handles one request. Thread-safe; every method returns at once. */
public interface RequestSocket {

  /**
   * The model's {@code send(message)}: for an authenticated user, to all of the user's devices (this one
   * included); for an anonymous connection, to this connection only. Completes with the number of
   * connections it was handed to.
   */
  CompletionStage<Integer> send(Object message);

  /**
   * Sends {@code message} to this connection only, while the request lasts: a reply made after the
   * handler's stage completed or timed out is dropped.
   */
  void reply(Object message);

  /** The model's {@code to(userIds).send(message)}: up to 100 users, anywhere in the cluster. */
  Recipients to(Collection<String> userIds);

  CompletionStage<Boolean> isOnline(String userId);
}
