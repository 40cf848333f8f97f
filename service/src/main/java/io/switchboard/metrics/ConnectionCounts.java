package io.switchboard.metrics;

/** How many client connections, and of how many distinct users, are open on this node. */
public interface ConnectionCounts {
  int size();

  int users();
}
