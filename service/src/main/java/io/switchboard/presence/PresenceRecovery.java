package io.switchboard.presence;

import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * When a node is removed from the cluster (downed after a crash, or left), wakes the entity of every
 * user recorded online with an entity on that node ({@link OnlineRecords}), so that the new incarnation
 * recovers the user: online if their connections on other nodes re-register, else exactly one offline.
 * Every surviving node does this from its own replica, and again at each of {@link #RETRIES}: a wake
 * sent while this node's shard region still has the dead node as the shard's home is lost (seen in
 * about a third of kill tests), and waking an entity twice is harmless.
 */
public final class PresenceRecovery {
  private PresenceRecovery() {}

  private interface Command {}

  private record Removed(ClusterEvent.MemberRemoved event) implements Command {}

  /** Asks this node's records for the users whose entity was on {@code host}, to wake them. */
  private record Scan(String host) implements Command {}

  private record Found(String host, List<String> users) implements Command {}

  /** Delays after a removal at which the scan runs again. */
  static final List<Duration> RETRIES = List.of(Duration.ofSeconds(2), Duration.ofSeconds(5));

  public static Behavior<?> create() {
    return Behaviors.<Command>setup(
            context -> Behaviors.<Command>withTimers(timers -> {
              ClusterSharding sharding = ClusterSharding.get(context.getSystem());
              ActorRef<OnlineRecords.Command> records =
                  OnlineRecords.get(context.getSystem()).ref();
              Cluster.get(context.getSystem())
                  .subscriptions()
                  .tell(
                      Subscribe.create(
                          context.messageAdapter(ClusterEvent.MemberRemoved.class, Removed::new),
                          ClusterEvent.MemberRemoved.class));
              return Behaviors.receive(Command.class)
                  .onMessage(
                      Removed.class,
                      removed -> {
                        String host = removed.event().member().address().toString();
                        context.getSelf().tell(new Scan(host));
                        for (int i = 0; i < RETRIES.size(); i++) {
                          timers.startSingleTimer(host + "#" + i, new Scan(host), RETRIES.get(i));
                        }
                        return Behaviors.same();
                      })
                  .onMessage(
                      Scan.class,
                      scan -> {
                        records.tell(new OnlineRecords.UsersOnHost<Command>(
                            scan.host(), context.getSelf(), users -> new Found(scan.host(), users)));
                        return Behaviors.same();
                      })
                  .onMessage(
                      Found.class,
                      found -> {
                        for (String user : found.users()) {
                          context.getLog().debug(
                              "waking {}: its entity was on removed node {}", user, found.host());
                          sharding
                              .entityRefFor(UserPresence.TYPE_KEY, user)
                              .tell(new UserPresence.Wake());
                        }
                        return Behaviors.same();
                      })
                  .build();
            }))
        .narrow();
  }
}
