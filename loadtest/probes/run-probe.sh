#!/usr/bin/env bash
# Live heap and RSS per idle connection of a bare Pekko HTTP WebSocket route (PekkoWebSocketProbe.java),
# for each way of building its handler, and optionally a heap dump for hprof-paths.py.
#
#   bash loadtest/probes/run-probe.sh [CONNECTIONS] [MODE...]      # default: 10000 fresh shared clear
#   DUMP=1 bash loadtest/probes/run-probe.sh 1000 fresh            # also /tmp/probe-fresh.hprof
#
# Needs `mvn -B -q -DskipTests package` first (the service's jar carries Pekko; the load generator's
# Worker holds the clients). Prints one line per mode and keeps the class histograms in /tmp.
set -euo pipefail
cd "$(dirname "$0")/../.."
connections=${1:-10000}
shift || true
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(fresh shared clear)
port=19190
trap 'kill $(jobs -p) 2> /dev/null || true' EXIT

live_bytes() { jcmd "$1" GC.class_histogram > "$2"; awk '/^Total/ {print $3}' "$2"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || { echo "timed out waiting for: $*" >&2; return 1; }
    sleep 0.5
  done
}

for mode in "${modes[@]}"; do
  log=/tmp/probe-$mode.log
  java -Xmx1g -XX:+UseSerialGC -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 \
    -cp service/target/switchboard.jar loadtest/probes/PekkoWebSocketProbe.java $port "$mode" > "$log" 2>&1 &
  probe=$!
  wait_for 60 grep -q "probe listening" "$log"
  live0=$(live_bytes $probe /tmp/probe-$mode-histo-0.txt)
  rss0=$(rss_kb $probe)
  clients=/tmp/probe-$mode-clients.log
  # The worker reads commands on its standard input: a pipe this script holds open, then "quit".
  commands=/tmp/probe-$mode-commands
  rm -f "$commands"
  mkfifo "$commands"
  java -Xmx1g -XX:+UseSerialGC -cp loadtest/target/loadtest.jar io.switchboard.loadtest.Worker \
    switchboard "ws://127.0.0.1:$port/ws" 127.0.0.2 probe-secret 0 "$connections" 1 2000 \
    < "$commands" > "$clients" 2>&1 &
  worker=$!
  exec 3> "$commands"
  wait_for 300 grep -q "\"open\":$connections," "$clients"
  if [ "$mode" = clear ]; then # the probe prints its count every 5 s
    wait_for 30 grep -q "closeMode cleared $connections," "$log"
  fi
  live1=$(live_bytes $probe /tmp/probe-$mode-histo-$connections.txt)
  rss1=$(rss_kb $probe)
  if [ "${DUMP:-0}" = 1 ]; then
    rm -f /tmp/probe-$mode.hprof
    jcmd $probe GC.heap_dump /tmp/probe-$mode.hprof > /dev/null
  fi
  echo "$mode: $connections connections; live heap $live0 -> $live1 bytes," \
    "$(( (live1 - live0) / connections )) B per connection; RSS $rss0 -> $rss1 KiB," \
    "$(( (rss1 - rss0) * 1024 / connections )) B per connection; $(grep -o 'closeMode cleared.*' "$log" | tail -1)"
  echo quit >&3
  exec 3>&-
  wait $worker || true
  rm -f "$commands"
  kill $probe
  wait $probe 2> /dev/null || true
done
