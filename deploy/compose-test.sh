#!/usr/bin/env bash
# The Docker Compose test: a real three-node cluster in containers behind HAProxy, checked from the host
# over real wss and HTTP (deploy/ComposeCheck.java). Run by .ci/run after the Maven tests; needs root on
# a Debian machine (it installs docker.io, docker-compose and debootstrap when missing, and starts
# dockerd when none runs). Tears everything down, also on failure, and ends with one PASS/FAIL line.
#   bash deploy/compose-test.sh          (COMPOSE="docker compose" to use Compose v2 instead of 1.29)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
out="$root/target/compose-test"
mkdir -p "$out"
started=$(date +%s)
project="switchboard-test"
result="FAIL"
dockerd_pid=""
compose_up=false

say() { echo "compose-test: $*"; }

cleanup() {
  local status=$?
  if $compose_up; then
    $COMPOSE logs --no-color >"$out/compose.log" 2>&1 || true
    $COMPOSE down -v -t 10 >/dev/null 2>&1 || true
  fi
  if [[ -n "$dockerd_pid" ]]; then
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
  fi
  local took=$(( $(date +%s) - started ))
  if [[ "$result" == "PASS" && $status -eq 0 ]]; then
    say "PASS (${took} s)"
  else
    say "FAIL (${took} s) — container logs: $out/compose.log, check output: $out/check.log"
    [[ $status -eq 0 ]] && status=1
  fi
  exit $status
}
trap cleanup EXIT

# 1. Tools. Debian's docker.io brings dockerd; docker-compose is 1.29 (Compose file format 2.4 works
#    with it and with Compose v2).
if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null \
    || ! command -v debootstrap >/dev/null; then
  say "installing docker.io docker-compose debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose debootstrap >"$out/apt.log" 2>&1 \
    || { tail -20 "$out/apt.log"; exit 1; }
fi
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  dockerd >"$out/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { tail -20 "$out/dockerd.log"; exit 1; }
fi

# 2. Images: a local JRE 17 + HAProxy base (no registry here), the node image from the built jar, the LB.
base="switchboard-base:bookworm"
bash deploy/base-image.sh "$base"
[[ -f service/target/switchboard.jar ]] || mvn -B -q -DskipTests package
bash deploy/dev-cert.sh

env_file="$out/test.env"
cat >"$env_file" <<EOF
JWT_SECRET=compose-test-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
API_KEY=compose-test-key-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
BASE_IMAGE=$base
LB_BASE_IMAGE=$base
SWITCHBOARD_IMAGE=switchboard:compose-test
LB_IMAGE=switchboard-lb:compose-test
EOF
# node3 serves its sockets on the Pekko HTTP edge, node1 and node2 on Netty (the default): one cluster
# of both, and the checks' node3 device (a send, then 1001 on docker stop) goes through Pekko HTTP.
cat >"$out/node3-pekko-edge.yml" <<EOF
version: "2.4"
services:
  node3:
    environment:
      WSS_EDGE: pekko
EOF
COMPOSE="${COMPOSE:-docker-compose} --env-file $env_file -f deploy/docker-compose.yml -f $out/node3-pekko-edge.yml -p $project"
# Leftovers of an interrupted earlier run.
$COMPOSE down -v -t 5 >/dev/null 2>&1 || true

say "building images"
$COMPOSE build >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }

# 3. Up, then the checks from the host.
say "starting three nodes and the load balancer"
compose_up=true
$COMPOSE up -d >"$out/up.log" 2>&1 || { cat "$out/up.log"; exit 1; }

set -a
# shellcheck disable=SC1090
source "$env_file"
set +a
export COMPOSE CERT="$root/deploy/certs/cert.pem"
say "checking (wss through HAProxy, each node's API, docker kill/stop/start)"
java -cp service/target/switchboard.jar deploy/ComposeCheck.java 2>&1 | tee "$out/check.log"
checked=${PIPESTATUS[0]}
# Each start of node1 and node3 logs its edge: "node node3:25520 started: ws://... (pekko edge) ...".
edges=$($COMPOSE logs --no-color node1 node3 2>&1 | grep -o 'node node[13]:[0-9]* started: [^ ]* ([a-z]* edge)' \
  | sed -E 's/node (node[13]):.*(\([a-z]* edge\))/\1 \2/' | sort -u || true)
say "edges: $(echo "$edges" | tr '\n' ' ')"
if [[ $checked -eq 0 ]] && grep -qx 'node1 (netty edge)' <<<"$edges" && grep -qx 'node3 (pekko edge)' <<<"$edges" \
    && [[ $(wc -l <<<"$edges") -eq 2 ]]; then
  result="PASS"
fi
