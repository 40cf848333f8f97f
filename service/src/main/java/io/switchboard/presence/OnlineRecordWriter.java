package io.switchboard.presence;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Writes one user's entry in the replicated {@link OnlineRecords} (to a majority): the online event's
 * id, this node, when the offline grace started (0: not in grace) and the user's connections with their
 * nodes. Owns the current online period's id and the grace start, and knows whether the write that
 * opens an online period (after which its online event, if any, goes out) is still in flight: until it
 * is written, the entity does not go offline, so offline never overtakes online.
 */
final class OnlineRecordWriter {

  private final ActorRef<OnlineRecords.Command> store;
  private final ActorRef<UserPresence.Command> self;
  private final TimerScheduler<UserPresence.Command> timers;
  private final String userId;
  /** This node's address, the record's host. */
  private final String host;
  private final Duration timeout;
  private final ConnectionSet connections;
  /** Id of the online event of the current online period (the offline's id derives from it). */
  private String onlineEventId;
  /** When the offline grace started (epoch ms), 0 when not in grace. */
  private long graceSince;
  /** The write that opens the online period is in flight. */
  private boolean opening;
  /** The online event to emit once that write is done, if any. */
  private String pendingAnnouncement;

  OnlineRecordWriter(
      ActorRef<OnlineRecords.Command> store,
      ActorRef<UserPresence.Command> self,
      TimerScheduler<UserPresence.Command> timers,
      String userId,
      String host,
      Duration timeout,
      ConnectionSet connections) {
    this.store = store;
    this.self = self;
    this.timers = timers;
    this.userId = userId;
    this.host = host;
    this.timeout = timeout;
    this.connections = connections;
  }

  String onlineEventId() {
    return onlineEventId;
  }

  /** The id of the offline event that ends the current online period. */
  String offlineEventId() {
    return onlineEventId + ":offline";
  }

  long graceSince() {
    return graceSince;
  }

  /** Carries on the online period an earlier incarnation recorded. */
  void resume(OnlineRecords.Entry recorded) {
    onlineEventId = recorded.onlineEventId();
    graceSince = recorded.graceSince();
  }

  /** Whether the record was written by another node (so this incarnation must write it afresh). */
  boolean writtenElsewhere(OnlineRecords.Entry recorded) {
    return !recorded.host().equals(host);
  }

  /**
   * Writes the record that opens (or, after a move, takes over) the online period {@code eventId};
   * {@code announce}: emit its online event once written ({@link #opened}).
   */
  void open(String eventId, boolean announce) {
    onlineEventId = eventId;
    opening = true;
    write(UserPresence.OnlineRecorded.INSTANCE);
    pendingAnnouncement = announce ? eventId : null;
    // The records answer at their timeout at the latest; should that answer be lost (their replica
    // restarted), the entity goes on as after a timeout instead of waiting for ever.
    timers.startSingleTimer(UserPresence.OnlineRecorded.INSTANCE, timeout.multipliedBy(2));
  }

  /** Takes the record back over after a move, announcing nothing. */
  void reopen() {
    open(onlineEventId, false);
  }

  /**
   * The opening write is done (on a timeout it still reaches the replicas it could: announce anyway,
   * the user is online): the online event to emit now, or null.
   */
  String opened() {
    timers.cancel(UserPresence.OnlineRecorded.INSTANCE);
    opening = false;
    String announce = pendingAnnouncement;
    pendingAnnouncement = null;
    return announce;
  }

  /** Whether the write opening the online period is in flight. */
  boolean opening() {
    return opening;
  }

  /** The grace starts now; it is recorded, so that it goes on from then after a move. */
  void startGrace() {
    graceSince = System.currentTimeMillis();
    write(UserPresence.RecordWritten.INSTANCE);
  }

  /** A connection is back within the grace: recorded (with the connection). */
  void endGrace() {
    graceSince = 0;
    write(UserPresence.RecordWritten.INSTANCE);
  }

  /** Rewrites the record as it is now (connections joined or left). */
  void update() {
    write(UserPresence.RecordWritten.INSTANCE);
  }

  /** The user went offline: the record goes. */
  void remove() {
    graceSince = 0;
    store.tell(new OnlineRecords.Put<UserPresence.Command>(
        userId, null, timeout, self, UserPresence.RecordWritten.INSTANCE));
  }

  /** Writes the record as it is now (to a majority); {@code answer} comes back when it is. */
  void write(UserPresence.Command answer) {
    OnlineRecords.Entry entry =
        new OnlineRecords.Entry(onlineEventId, host, graceSince, connections.recorded());
    store.tell(new OnlineRecords.Put<>(userId, entry, timeout, self, answer));
  }
}
