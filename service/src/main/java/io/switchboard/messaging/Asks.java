package io.switchboard.messaging;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** How the node's operations wait for the answers of their asks. */
public final class Asks {
  private Asks() {}

  /**
   * The outcome of {@code ask}, as a plain {@link CompletableFuture} completed on the thread that
   * answers. Pekko's asks return Scala's {@code CompletionStage}, which runs every continuation
   * ({@code thenApply}, {@code handle}, ...) as a task on the common pool; with fewer than three cores
   * that pool has one worker and the JDK starts <em>a new thread per task</em> instead (38k threads a
   * minute at 1,500 sends/s on two cores). Our continuations are cheap; they run where the answer
   * arrives.
   */
  public static <T> CompletableFuture<T> onCompletingThread(CompletionStage<T> ask) {
    CompletableFuture<T> plain = new CompletableFuture<>();
    ask.whenCompleteAsync(
        (value, error) -> {
          if (error != null) {
            plain.completeExceptionally(error);
          } else {
            plain.complete(value);
          }
        },
        Runnable::run);
    return plain;
  }
}
