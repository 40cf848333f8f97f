package io.switchboard.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One entry of {@code SEED_NODES}: a cluster member to join through. Accepted as {@code host:port} or
 * in Pekko's own form {@code pekko://<cluster-name>@host:port}; IPv6 hosts in brackets
 * ({@code [::1]:25520}). Anything else is refused at start with the entry and the forms it may take.
 */
public record SeedNode(String host, int port) {

  private static final Pattern PEKKO = Pattern.compile("pekko://([^@/]*)@(.+?)/?");
  private static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]/@\\s]+):(\\d{1,5})");

  /** The entries of a comma-separated list; {@code clusterName}: the name a pekko:// entry must carry. */
  public static List<SeedNode> parseAll(String list, String clusterName) {
    List<SeedNode> seeds = new ArrayList<>();
    for (String entry : list.split(",")) {
      if (!entry.isBlank()) {
        seeds.add(parse(entry.trim(), clusterName));
      }
    }
    return List.copyOf(seeds);
  }

  static SeedNode parse(String entry, String clusterName) {
    String hostPort = entry;
    Matcher pekko = PEKKO.matcher(entry);
    if (pekko.matches()) {
      if (!pekko.group(1).equals(clusterName)) {
        throw new IllegalArgumentException(
            "SEED_NODES entry '" + entry + "' names the cluster '" + pekko.group(1)
                + "', but this node's CLUSTER_NAME is '" + clusterName + "'");
      }
      hostPort = pekko.group(2);
    } else if (entry.contains("://")) {
      throw refused(entry, clusterName);
    }
    Matcher matcher = HOST_PORT.matcher(hostPort);
    if (!matcher.matches()) {
      throw refused(entry, clusterName);
    }
    int port = Integer.parseInt(matcher.group(2));
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "SEED_NODES entry '" + entry + "' has port " + port + ", outside 1-65535");
    }
    String host = matcher.group(1);
    if (host.startsWith("[")) {
      host = host.substring(1, host.length() - 1);
    }
    return new SeedNode(host, port);
  }

  private static IllegalArgumentException refused(String entry, String clusterName) {
    return new IllegalArgumentException(
        "SEED_NODES entry '" + entry + "' is neither host:port nor pekko://" + clusterName
            + "@host:port");
  }
}
