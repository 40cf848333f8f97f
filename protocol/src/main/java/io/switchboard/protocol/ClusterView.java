package io.switchboard.protocol;

import java.util.List;

/**
 * The cluster as the answering node sees it: its own address, the leader, and every member with its
 * status ({@code joining}, {@code up}, {@code leaving}, {@code exiting}, {@code down}, ...) and whether
 * this node can reach it.
 */
public record ClusterView(String self, String leader, List<Member> members) {
  /** One member: {@code host:port} of its remoting, its status, and whether the answering node reaches it. */
  public record Member(String address, String status, boolean reachable) {}
}
