package io.switchboard.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A private network for node processes, made of Linux network namespaces: one namespace per node, each
 * with a veth into a bridge (the "switch") that lives in a namespace of its own, plus one veth from the
 * test's namespace into the same bridge, so the test reaches every node and every node reaches the test.
 * Addresses come from a {@code 10.213.N.0/24} that no interface or route of this machine uses: the test
 * is {@code .1}, node {@code i} is {@code .(11 + i)}.
 *
 * <p>Why namespaces: on loopback one node cannot be cut off with iptables, because Pekko Artery's
 * outbound connections are not bound to the node's own address. A partition here is a set of nftables
 * drop rules on the switch (bridge family, in the switch's namespace): silent, both ways, like a broken
 * link, with neither the nodes' namespaces nor this machine's own firewall, forwarding or bridge
 * settings touched. Only addresses of this network are ever named in a rule.
 *
 * <p>Needs root, iproute2 and nft. Names carry a random id, so a run that crashed and left its
 * namespaces behind does not disturb the next; {@link #close()} removes everything this one made (kill
 * the processes in it first: a namespace lives on while a process is in it).
 */
public final class NamespaceNetwork implements AutoCloseable {
  private static final String TABLE = "partition";

  private final String id;
  private final String prefix;
  private final int nodes;
  private final List<String> namespaces = new ArrayList<>();
  private String hostLink;

  private NamespaceNetwork(String id, String prefix, int nodes) {
    this.id = id;
    this.prefix = prefix;
    this.nodes = nodes;
  }

  /** Whether this process can make namespaces: root, with {@code ip} and {@code nft} installed. */
  public static boolean supported() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
          && exec(List.of("ip", "netns", "list")).exit == 0
          && exec(List.of("nft", "--version")).exit == 0;
    } catch (IOException | UnsupportedOperationException | UncheckedIOException e) {
      return false;
    }
  }

  /** Makes the network with {@code nodes} node namespaces; on failure removes what it made. */
  public static NamespaceNetwork create(int nodes) {
    String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    NamespaceNetwork network = new NamespaceNetwork(id, "10.213." + freeSubnet() + ".", nodes);
    try {
      network.build();
      return network;
    } catch (RuntimeException e) {
      network.close();
      throw e;
    }
  }

  /** A third octet N such that no address or route of this namespace is in 10.213.N.0/24. */
  private static int freeSubnet() {
    String used = run("ip", "-4", "-o", "addr", "show") + run("ip", "-4", "route", "show", "table", "all");
    List<Integer> free = new ArrayList<>();
    for (int n = 1; n < 255; n++) {
      if (!used.contains("10.213." + n + ".")) {
        free.add(n);
      }
    }
    if (free.isEmpty()) {
      throw new IllegalStateException("no free 10.213.N.0/24 on this machine");
    }
    return free.get(ThreadLocalRandom.current().nextInt(free.size()));
  }

  private String hub() {
    return "sbp-" + id + "-hub";
  }

  private void build() {
    run("ip", "netns", "add", hub());
    namespaces.add(hub());
    run("ip", "-n", hub(), "link", "add", "br0", "type", "bridge");
    run("ip", "-n", hub(), "link", "set", "br0", "up");
    hostLink = "sbp" + id + "h";
    run("ip", "link", "add", hostLink, "type", "veth", "peer", "name", "to-test", "netns", hub());
    run("ip", "-n", hub(), "link", "set", "to-test", "master", "br0", "up");
    run("ip", "addr", "add", hostAddress() + "/24", "dev", hostLink);
    run("ip", "link", "set", hostLink, "up");
    for (int i = 0; i < nodes; i++) {
      String ns = namespace(i);
      run("ip", "netns", "add", ns);
      namespaces.add(ns);
      run("ip", "-n", ns, "link", "set", "lo", "up");
      run("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "to-node" + i,
          "netns", hub());
      run("ip", "-n", hub(), "link", "set", "to-node" + i, "master", "br0", "up");
      run("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
      run("ip", "-n", ns, "link", "set", "eth0", "up");
    }
  }

  public String namespace(int node) {
    return "sbp-" + id + "-" + node;
  }

  /** The address of node {@code node} (0-based). */
  public String address(int node) {
    return prefix + (11 + node);
  }

  /** The test's own address on this network (where nodes reach a webhook receiver, for example). */
  public String hostAddress() {
    return prefix + "1";
  }

  /** The command prefix that runs a program in node {@code node}'s namespace. */
  public List<String> exec(int node) {
    return List.of("ip", "netns", "exec", namespace(node));
  }

  /**
   * Cuts node {@code isolated} off from every other node, both ways; the test still reaches it and it
   * still reaches the test.
   */
  public void partition(int isolated) {
    run("ip", "netns", "exec", hub(), "nft", "add", "table", "bridge", TABLE);
    run("ip", "netns", "exec", hub(), "nft", "add", "chain", "bridge", TABLE, "forward",
        "{ type filter hook forward priority 0; policy accept; }");
    for (int other = 0; other < nodes; other++) {
      if (other != isolated) {
        for (String[] pair : new String[][] {
            {address(isolated), address(other)}, {address(other), address(isolated)}}) {
          run("ip", "netns", "exec", hub(), "nft", "add", "rule", "bridge", TABLE, "forward",
              "ip", "saddr", pair[0], "ip", "daddr", pair[1], "drop");
        }
      }
    }
  }

  /** Removes the partition: every node reaches every other again. */
  public void heal() {
    run("ip", "netns", "exec", hub(), "nft", "delete", "table", "bridge", TABLE);
  }

  /** Deletes the test's link and every namespace (their links and rules go with them). */
  @Override
  public void close() {
    List<String> failures = new ArrayList<>();
    if (hostLink != null) {
      Result result = exec(List.of("ip", "link", "del", hostLink));
      if (result.exit != 0 && !result.output.contains("Cannot find device")) {
        failures.add(result.output);
      }
    }
    for (int i = namespaces.size() - 1; i >= 0; i--) {
      Result result = exec(List.of("ip", "netns", "del", namespaces.get(i)));
      if (result.exit != 0) {
        failures.add(result.output);
      }
    }
    if (!failures.isEmpty()) {
      throw new IllegalStateException("cleaning up network " + id + ": " + failures);
    }
  }

  private record Result(int exit, String output) {}

  private static String run(String... command) {
    Result result = exec(List.of(command));
    if (result.exit != 0) {
      throw new IllegalStateException(
          String.join(" ", command) + " failed (" + result.exit + "): " + result.output);
    }
    return result.output;
  }

  private static Result exec(List<String> command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return new Result(-1, "timed out: " + String.join(" ", command));
      }
      return new Result(process.exitValue(), output);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
