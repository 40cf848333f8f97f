#!/usr/bin/env bash
# Reruns every benchmark scenario against Switchboard and the Socket.IO peer, writes the raw results to
# loadtest/results/ (one JSON file per scenario, server and run; git ignores them) and redraws the plots
# there. BENCHMARKS.md quotes the summaries in loadtest/results/summary/, which
# loadtest/results/summarize.py makes from the raw files.
# Root needed only to install redis-server (the Socket.IO cluster's adapter) and haproxy (TLS ended in
# front of the servers) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in redis-server haproxy; do
  if ! command -v "$tool" >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
  fi
done
# A connect storm of 10k clients at once overflows a 2,048-entry SYN queue and a 4,096-entry accept
# queue (somaxconn caps both servers' listen backlog of 16,384); the dropped ones retry after 1, 3, 7,
# 15 s and the storm then measures the kernel, not the servers.
sysctl -q -w net.ipv4.tcp_max_syn_backlog=16384 2>/dev/null || echo "(could not raise tcp_max_syn_backlog)"
sysctl -q -w net.core.somaxconn=16384 2>/dev/null || echo "(could not raise somaxconn)"
(cd loadtest/peers/socketio && npm ci --no-audit --no-fund --silent)
mvn -B -q -DskipTests package
run() { java -jar loadtest/target/loadtest.jar "$@"; }
run capacity                                  # 1: idle connections, 5k steps to 19k, one node
run capacity --tls --steps 5000,10000         # 1: the same with TLS in the server process
run capacity --tls-proxy --steps 5000,10000   # 1: the same with TLS ended by HAProxy in front
run capacity --server switchboard --server-jvm "-Xmx2g" --label g1 # 1: Switchboard on G1
# 1: Switchboard's two WebSocket edges (WSS_EDGE) side by side; the Pekko HTTP edge's TLS handshakes
# in the process keep up only when paced (BENCHMARKS.md, "The two WebSocket edges").
for edge in netty pekko; do
  run capacity --server switchboard --steps 5000,10000 --edge $edge --label edge-$edge
  run capacity --server switchboard --tls-proxy --steps 5000,10000 --edge $edge --label edge-$edge
done
run capacity --server switchboard --tls --steps 5000,10000 --edge netty --label edge-netty
run capacity --server switchboard --tls --steps 5000,10000 --edge pekko --connect-rate 100 --label edge-pekko
# Throughput and latency on the JVM's default collector (G1): the serial one's young pauses dominate p99.
# Three turns each, servers alternating; the median is the result (this machine is shared and noisy).
run throughput --repeat 3 --server-jvm "-Xmx2g" # 2: highest rate held at p99 <= 50 ms, nothing lost
run latency --repeat 3 --server-jvm "-Xmx2g"  # 3: p50/p99/p99.9 at half Socket.IO's highest rate
# The current figures (BENCHMARKS.md §2-3): 60 s of sends first, so that both servers' JITs are warm.
run throughput --repeat 3 --warmup 60@1000 --server-jvm "-Xmx2g" --label nettysender
run latency --repeat 3 --warmup 60@1000 --server-jvm "-Xmx2g" --label nettysender # at half the line above's Socket.IO rate
# 2-3: the two edges under sends, taking turns with Socket.IO twice
# (BENCHMARKS.md §1, "The two WebSocket edges").
for k in 1 2; do
  run throughput --server socketio --warmup 60@1000 --server-jvm "-Xmx2g" --label edges-$k
  for edge in netty pekko; do
    run throughput --server switchboard --edge $edge --warmup 60@1000 --server-jvm "-Xmx2g" --label edges-$edge-$k
  done
done
for k in 1 2; do
  run latency --server socketio --rates 1000 --warmup 60@1000 --server-jvm "-Xmx2g" --label edges-$k
  for edge in netty pekko; do
    run latency --server switchboard --edge $edge --rates 1000 --warmup 60@1000 --server-jvm "-Xmx2g" --label edges-$edge-$k
  done
done
run storm                                     # 4: 10k clients at once
run storm --storm-warmup 10000 --label warm   # 4: the same on a node that took a storm before (JIT warm)
run slow-readers                              # clients that never read: memory over time
run cluster --repeat 3 --warmup 300 --server-jvm "-Xmx2g" --label median3 # 5: 3 nodes, sends via another node; 3 JVMs on 2 cores compile for ~4 minutes
run capacity --nodes 3 --steps 19000,38000,57000 --connect-rate 500 # 1: ~57k on a 3-node cluster, connects paced so registrations keep up
run plot
