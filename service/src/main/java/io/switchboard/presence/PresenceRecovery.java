package io.switchboard.presence;

import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * When a node is removed from the cluster (downed after a crash, or left), wakes the entity of every
 * user recorded online with an entity on that node ({@link OnlineRecords}), so that the new incarnation
 * recovers the user: online if their connections on other nodes re-register, else exactly one offline.
 * Every surviving node does this from its own replica, and again {@link #RETRIES} later: a wake sent
 * while this node's shard region still has the dead node as the shard's home is lost (seen in about a
 * third of kill tests), and waking an entity twice is harmless.
 */
public final class PresenceRecovery {
  private PresenceRecovery() {}

  private interface Command {}

  private record Removed(ClusterEvent.MemberRemoved event) implements Command {}

  /** Scans the records for users whose entity was on {@code host}, and wakes them. */
  private record Scan(String host) implements Command {}

  /** Delays after a removal at which the scan runs again. */
  static final java.util.List<java.time.Duration> RETRIES =
      java.util.List.of(java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(5));

  private record Scanned(String host, Replicator.GetResponse<LWWMap<String, String>> response)
      implements Command {}

  /** {@code shards}: the number of shards of user entities, which the records' buckets follow. */
  public static Behavior<?> create(int shards) {
    return Behaviors.<Command>setup(
            context -> Behaviors.<Command>withTimers(timers -> {
              ClusterSharding sharding = ClusterSharding.get(context.getSystem());
              Cluster.get(context.getSystem())
                  .subscriptions()
                  .tell(
                      Subscribe.create(
                          context.messageAdapter(ClusterEvent.MemberRemoved.class, Removed::new),
                          ClusterEvent.MemberRemoved.class));
              return DistributedData.<Command, LWWMap<String, String>>withReplicatorMessageAdapter(
                  replicator ->
                      Behaviors.receive(Command.class)
                          .onMessage(
                              Removed.class,
                              removed -> {
                                String host = removed.event().member().address().toString();
                                context.getSelf().tell(new Scan(host));
                                for (int i = 0; i < RETRIES.size(); i++) {
                                  timers.startSingleTimer(
                                      host + "#" + i, new Scan(host), RETRIES.get(i));
                                }
                                return Behaviors.same();
                              })
                          .onMessage(
                              Scan.class,
                              scan -> {
                                String host = scan.host();
                                for (Key<LWWMap<String, String>> bucket :
                                    OnlineRecords.buckets(shards)) {
                                  replicator.askGet(
                                      replyTo ->
                                          new Replicator.Get<>(
                                              bucket, Replicator.readLocal(), replyTo),
                                      response -> new Scanned(host, response));
                                }
                                return Behaviors.same();
                              })
                          .onMessage(
                              Scanned.class,
                              scanned -> {
                                if (scanned.response()
                                    instanceof Replicator.GetSuccess<LWWMap<String, String>> success) {
                                  for (Map.Entry<String, String> entry :
                                      success.dataValue().getEntries().entrySet()) {
                                    if (OnlineRecords.Entry.decode(entry.getValue())
                                        .host()
                                        .equals(scanned.host())) {
                                      context.getLog().debug(
                                          "waking {}: its entity was on removed node {}",
                                          entry.getKey(), scanned.host());
                                      sharding
                                          .entityRefFor(UserPresence.TYPE_KEY, entry.getKey())
                                          .tell(new UserPresence.Wake());
                                    }
                                  }
                                }
                                return Behaviors.same();
                              })
                          .build());
            }))
        .narrow();
  }
}
