#!/usr/bin/env bash
# Builds a local Debian bookworm image with a JRE 17 and HAProxy, without any image registry:
# debootstrap from Debian's package mirror, then `docker import`. The image is the BASE_IMAGE of
# deploy/Dockerfile and deploy/haproxy/Dockerfile where no public base image can be pulled (as in CI).
# Usage: deploy/base-image.sh [IMAGE]   (default switchboard-base:bookworm; kept, so a second run is instant)
set -euo pipefail
image="${1:-switchboard-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "base image $image: present (cached)"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }

root="$(mktemp -d /tmp/switchboard-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "base image $image: debootstrap bookworm from $mirror (a few minutes, once)"
debootstrap --variant=minbase --include=openjdk-17-jre-headless,haproxy,ca-certificates \
  bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -30 "$root.log"; exit 1; }
rm -f "$root.log"
# No package caches or lists in the image.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  - "$image" >/dev/null
echo "base image $image: built"
