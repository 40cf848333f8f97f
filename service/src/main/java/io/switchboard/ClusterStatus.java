package io.switchboard;

import static io.switchboard.messaging.Asks.onCompletingThread;

import io.switchboard.messaging.ClusterInfo;
import io.switchboard.metrics.NodeStatsReporter;
import io.switchboard.protocol.ClusterView;
import io.switchboard.protocol.NodeStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * This node's view of the cluster, read from Pekko Cluster and the members' {@link NodeStatsReporter}s.
 * Readiness ends for good once {@link #shuttingDown()} is called (by the first shutdown phase).
 */
final class ClusterStatus implements ClusterInfo {
  private final ActorSystem<?> system;
  private final String node;
  private volatile boolean shuttingDown;

  /** {@code node}: this node's name in the answers, its cluster host and port. */
  ClusterStatus(ActorSystem<?> system, String node) {
    this.system = system;
    this.node = node;
  }

  /** From now on the node is not ready: it is leaving. */
  void shuttingDown() {
    shuttingDown = true;
  }

  @Override
  public boolean isReady() {
    return !shuttingDown
        && Cluster.get(system).selfMember().status().equals(MemberStatus.up());
  }

  @Override
  public ClusterView clusterView() {
    CurrentClusterState state = Cluster.get(system).state();
    Set<Member> unreachable = state.getUnreachable();
    List<ClusterView.Member> members = new ArrayList<>();
    for (Member member : state.getMembers()) {
      members.add(
          new ClusterView.Member(
              hostPort(member.address()),
              member.status().toString().toLowerCase(Locale.ROOT),
              !unreachable.contains(member)));
    }
    members.sort(Comparator.comparing(ClusterView.Member::address));
    Address leader = state.getLeader();
    return new ClusterView(node, leader == null ? null : hostPort(leader), members);
  }

  /**
   * Every member's counts, asked through the receptionist; members that do not answer within 2 s (or
   * have not registered yet) are listed as unanswered.
   */
  @Override
  public CompletionStage<NodeStats> nodeStats() {
    Duration timeout = Duration.ofSeconds(2);
    CompletionStage<Receptionist.Listing> listing =
        onCompletingThread(
            AskPattern.ask(
                system.receptionist(),
                replyTo -> Receptionist.find(NodeStatsReporter.KEY, replyTo),
                timeout,
                system.scheduler()));
    return listing.thenCompose(
        found -> {
          List<CompletableFuture<NodeStats.Node>> answers = new ArrayList<>();
          for (ActorRef<NodeStatsReporter.Get> reporter : found.getServiceInstances(NodeStatsReporter.KEY)) {
            answers.add(
                onCompletingThread(
                        AskPattern.<NodeStatsReporter.Get, NodeStatsReporter.Stats>ask(
                            reporter, NodeStatsReporter.Get::new, timeout, system.scheduler()))
                    .thenApply(NodeStatsReporter.Stats::node)
                    .exceptionally(e -> null)
                    .toCompletableFuture());
          }
          return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
              .thenApply(done -> gathered(answers.stream().map(CompletableFuture::join).toList()));
        });
  }

  /** The answers that came (null: none), sorted, and the members that gave none. */
  private NodeStats gathered(List<NodeStats.Node> answers) {
    List<NodeStats.Node> nodes =
        answers.stream()
            .filter(Objects::nonNull)
            .sorted(Comparator.comparing(NodeStats.Node::node))
            .toList();
    Set<String> answered = nodes.stream().map(NodeStats.Node::node).collect(Collectors.toSet());
    List<String> unanswered = new ArrayList<>();
    for (Member member : Cluster.get(system).state().getMembers()) {
      String address = hostPort(member.address());
      if (!answered.contains(address)) {
        unanswered.add(address);
      }
    }
    unanswered.sort(Comparator.naturalOrder());
    return new NodeStats(nodes, unanswered);
  }

  private static String hostPort(Address address) {
    return address.host().getOrElse(() -> "") + ":" + address.port().getOrElse(() -> 0);
  }
}
