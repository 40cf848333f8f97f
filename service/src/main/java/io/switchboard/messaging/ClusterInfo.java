package io.switchboard.messaging;

import io.switchboard.protocol.ClusterView;
import io.switchboard.protocol.NodeStats;
import java.util.concurrent.CompletionStage;

/** The cluster as this node sees it: whether it takes traffic, the members, and their counts. */
public interface ClusterInfo {

  /** Ready for traffic: a cluster member that is Up, with sharding started, and not shutting down. */
  boolean isReady();

  /** The cluster's members as this node sees them, sorted by address. */
  ClusterView clusterView();

  /** Every member's counts; members that do not answer in time are listed as unanswered. */
  CompletionStage<NodeStats> nodeStats();
}
