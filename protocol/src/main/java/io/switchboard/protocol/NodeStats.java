package io.switchboard.protocol;

import java.util.List;

/**
 * What each cluster member holds right now, gathered by the answering node: for every member that
 * answered in time, its open sockets, the distinct authenticated users among them, and the user
 * entities ({@code UserPresence}) it hosts; {@code unanswered} lists the members that did not answer.
 */
public record NodeStats(List<Node> nodes, List<String> unanswered) {
  /**
   * One member: {@code host:port} of its remoting, its open sockets (anonymous ones included), the
   * distinct users with a socket there, the user entities it hosts and how many of those are online.
   */
  public record Node(String node, int connections, int users, int entities, int onlineUsers) {}
}
