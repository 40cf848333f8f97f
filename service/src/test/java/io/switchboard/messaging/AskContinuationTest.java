package io.switchboard.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What runs a continuation of an ask. Pekko's asks return Scala's {@code CompletionStage}, which hands
 * every {@code thenApply} to the common pool as a task (on two cores: a new thread per task);
 * {@link Asks#onCompletingThread} runs it where the answer arrives.
 */
@ExtendWith(TestKitJUnit5Extension.class)
class AskContinuationTest {
  @JUnit5TestKit final ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  record Question(ActorRef<String> replyTo) {}

  @Test
  void aContinuationOfTheWrappedAskRunsOnTheThreadThatAnswers() throws Exception {
    TestProbe<Question> asked = testKit.createTestProbe();
    CompletableFuture<String> ranOn =
        Asks.onCompletingThread(ask(asked))
            .thenApply(answer -> Thread.currentThread().getName());
    // The answer is told from this thread: the continuation runs here, inside tell.
    asked.receiveMessage().replyTo().tell("yes");
    assertEquals(Thread.currentThread().getName(), ranOn.getNow("not run yet"));
  }

  @Test
  void aContinuationOfTheBareAskDoesNot() throws Exception {
    // The behaviour the wrapper exists for; if Scala or Pekko ever change it, the wrapper can go.
    TestProbe<Question> asked = testKit.createTestProbe();
    CompletableFuture<String> ranOn =
        ask(asked).thenApply(answer -> Thread.currentThread().getName()).toCompletableFuture();
    asked.receiveMessage().replyTo().tell("yes");
    assertNotEquals(Thread.currentThread().getName(), ranOn.get(10, TimeUnit.SECONDS));
  }

  private CompletionStage<String> ask(TestProbe<Question> asked) {
    return AskPattern.ask(
        asked.ref(), Question::new, Duration.ofSeconds(10), testKit.system().scheduler());
  }
}
