package io.switchboard.messaging;

import io.switchboard.protocol.Presence;
import java.util.concurrent.CompletionStage;

/**
 * A user's connections, wherever in the cluster they are: which are open (the user's presence), and
 * closing them. Both go to the user's presence entity, which owns the connection set.
 */
public interface UserConnections {

  /** The user's open connections, oldest first; throws {@link IllegalArgumentException} for an invalid id. */
  CompletionStage<Presence> presence(String userId);

  /** Closes every connection of the user with 4000 and {@code reason}; completes with how many. */
  CompletionStage<Integer> closeConnections(String userId, String reason);
}
