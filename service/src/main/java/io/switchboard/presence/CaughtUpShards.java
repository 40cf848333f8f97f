package io.switchboard.presence;

import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * Which record buckets this node's replica holds up to date for the shard incarnations hosted here, so
 * that their user entities can start from a local read instead of a majority read of the whole bucket
 * each (which is what made registering cost more with every user online).
 *
 * <p>Why a local read is then enough: a user's record is written only by the user's entity, and so,
 * while a shard stays on this node, only by this node, whose replica takes each write at once. What
 * this node may lack are records written before the shard came here, by its earlier home; the first
 * majority read of a bucket after the shard's arrival merges those into this replica. So a bucket is
 * caught up for the shard incarnation (the classic {@code Shard} actor, the parent of its entities)
 * under which one of its entities read it from a majority; a new incarnation (the shard moved away and
 * back) is a new actor and starts again with a majority read.
 */
final class CaughtUpShards implements Extension {
  private static final ExtensionId<CaughtUpShards> ID =
      new ExtensionId<>() {
        @Override
        public CaughtUpShards createExtension(ActorSystem<?> system) {
          return new CaughtUpShards();
        }
      };

  static CaughtUpShards get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  /** Bucket key id to the shard incarnation it is caught up for (one per bucket: bounded). */
  private final ConcurrentHashMap<String, ActorRef> caughtUp = new ConcurrentHashMap<>();

  boolean isCaughtUp(String bucket, ActorRef shard) {
    return shard.equals(caughtUp.get(bucket));
  }

  /** A majority read of {@code bucket}, begun while {@code shard} was here, has completed. */
  void caughtUp(String bucket, ActorRef shard) {
    caughtUp.put(bucket, shard);
  }
}
