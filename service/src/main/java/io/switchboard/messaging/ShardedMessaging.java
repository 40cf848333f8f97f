package io.switchboard.messaging;

import static io.switchboard.messaging.Asks.onCompletingThread;

import io.switchboard.cluster.OutboundMessage;
import io.switchboard.presence.UserPresence;
import io.switchboard.protocol.CloseCodes;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.Presence;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Sends to users and answers for their connections from any node: every operation asks the user's
 * sharded {@link UserPresence} entity, wherever it lives, and fails (with the ask's timeout) when the
 * entity does not answer within {@code askTimeout}. An invalid user id throws
 * {@link IllegalArgumentException} before anything is asked.
 */
public final class ShardedMessaging implements Messaging, UserConnections {
  private final ClusterSharding sharding;
  private final Duration askTimeout;

  public ShardedMessaging(ClusterSharding sharding, Duration askTimeout) {
    this.sharding = sharding;
    this.askTimeout = askTimeout;
  }

  /**
   * Sends {@code message} to every connection of {@code userId}: a {@code String} as text, a
   * {@code byte[]} as binary, anything else as JSON. Completes with the number of connections it was
   * handed to (0 when the user is offline).
   */
  @Override
  public CompletionStage<Integer> send(String userId, Object message) {
    OutboundMessage outbound = OutboundMessage.of(message);
    return onCompletingThread(
            entity(requireValidUserId(userId))
                .ask(
                    (ActorRef<UserPresence.Delivered> replyTo) ->
                        new UserPresence.SendToUser(outbound, replyTo),
                    askTimeout))
        .thenApply(UserPresence.Delivered::connections);
  }

  /** The model's {@code to(userIds).send(message)}: up to {@value Limits#MAX_USERS_PER_REQUEST} users. */
  @Override
  public Recipients to(Collection<String> userIds) {
    if (userIds.size() > Limits.MAX_USERS_PER_REQUEST) {
      throw new IllegalArgumentException(
          "at most " + Limits.MAX_USERS_PER_REQUEST + " users per send, got " + userIds.size());
    }
    userIds.forEach(ShardedMessaging::requireValidUserId);
    List<String> distinct = List.copyOf(new LinkedHashSet<>(userIds));
    return message -> {
      OutboundMessage outbound = OutboundMessage.of(message);
      List<CompletableFuture<Integer>> counts = new ArrayList<>(distinct.size());
      for (String userId : distinct) {
        counts.add(send(userId, outbound).toCompletableFuture());
      }
      return CompletableFuture.allOf(counts.toArray(CompletableFuture[]::new))
          .thenApply(
              all -> {
                Map<String, Integer> result = new LinkedHashMap<>();
                for (int i = 0; i < distinct.size(); i++) {
                  result.put(distinct.get(i), counts.get(i).join());
                }
                return result;
              });
    };
  }

  @Override
  public CompletionStage<Presence> presence(String userId) {
    return onCompletingThread(
            entity(requireValidUserId(userId))
                .ask(
                    (ActorRef<UserPresence.Snapshot> replyTo) ->
                        new UserPresence.GetPresence(replyTo),
                    askTimeout))
        .thenApply(
            snapshot ->
                new Presence(
                    userId, snapshot.online(), snapshot.inGrace(), snapshot.connections()));
  }

  @Override
  public CompletionStage<Boolean> isOnline(String userId) {
    return presence(userId).thenApply(Presence::online);
  }

  @Override
  public CompletionStage<Integer> closeConnections(String userId, String reason) {
    return onCompletingThread(
            entity(requireValidUserId(userId))
                .ask(
                    (ActorRef<UserPresence.Closed> replyTo) ->
                        new UserPresence.CloseConnections(CloseCodes.CLOSED_BY_APP, reason, replyTo),
                    askTimeout))
        .thenApply(UserPresence.Closed::connections);
  }

  private EntityRef<UserPresence.Command> entity(String userId) {
    return sharding.entityRefFor(UserPresence.TYPE_KEY, userId);
  }

  private static String requireValidUserId(String userId) {
    Limits.userIdProblem(userId)
        .ifPresent(
            problem -> {
              throw new IllegalArgumentException(problem);
            });
    return userId;
  }
}
