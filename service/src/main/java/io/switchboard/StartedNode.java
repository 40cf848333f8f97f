package io.switchboard;

import io.switchboard.config.SwitchboardSettings;
import io.switchboard.connection.ConnectionRegistry;
import io.switchboard.messaging.ShardedMessaging;
import io.switchboard.presence.PresenceEventHub;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The parts of a running node, as {@link NodeWiring} built them, for {@link Switchboard} to serve;
 * {@code node} is its name in presence answers, the cluster host and port.
 */
record StartedNode(
    String node,
    SwitchboardSettings settings,
    NodeSecrets secrets,
    ActorSystem<Void> system,
    ShardedMessaging users,
    PresenceEventHub events,
    ClusterStatus cluster,
    ConnectionRegistry registry,
    int wssPort,
    int apiPort) {}
