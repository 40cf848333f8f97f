package io.switchboard.messaging;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/** Recipients of one send (the model's {@code to(userIds)}), distinct and in the order given. */
@FunctionalInterface
public interface Recipients {

  /**
   * Sends {@code message} (an object as JSON, a {@code String} as text, {@code byte[]} as binary) to every
   * recipient; completes with each user's delivery count, in the order the users were given.
   */
  CompletionStage<Map<String, Integer>> send(Object message);
}
