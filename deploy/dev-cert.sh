#!/usr/bin/env bash
# Makes a self-signed development certificate for the compose cluster with openssl:
#   deploy/certs/cert.pem, key.pem   (EC P-256; SAN localhost, 127.0.0.1, node1..3, lb)
#   deploy/certs/haproxy.pem         (cert + key in one file, as HAProxy reads it)
# Clients must trust cert.pem (or be told to skip verification) — never use this in production.
# An existing certificate is kept; pass --force to make a new one.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/certs"
if [[ -f "$dir/haproxy.pem" && "${1:-}" != "--force" ]]; then
  echo "dev certificate: $dir/cert.pem (kept)"
  exit 0
fi
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj "/CN=switchboard-dev" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:node1,DNS:node2,DNS:node3,DNS:lb" \
  -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
cat "$dir/cert.pem" "$dir/key.pem" > "$dir/haproxy.pem"
# Readable by the containers' non-root users (haproxy, switchboard); it is a dev key.
chmod 644 "$dir"/*.pem
echo "dev certificate: $dir/cert.pem (new)"
