package io.switchboard.messaging;

import java.util.Collection;
import java.util.concurrent.CompletionStage;

/** Sending to users and asking about their presence, from anywhere in the cluster. */
public interface Messaging {

  /** Completes with the number of the user's connections {@code message} was handed to. */
  CompletionStage<Integer> send(String userId, Object message);

  /** Up to 100 users; throws {@link IllegalArgumentException} for more or for an invalid id. */
  Recipients to(Collection<String> userIds);

  CompletionStage<Boolean> isOnline(String userId);
}
