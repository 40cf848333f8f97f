#!/usr/bin/env bash
# Prints an HS256 JWT for a user, signed with JWT_SECRET (from the environment or deploy/.env), valid
# for an hour — what your backend does with its JWT library when a user logs in. Needs only openssl.
#   deploy/token.sh alice
set -euo pipefail
user="${1:?usage: deploy/token.sh USER_ID}"
if [[ -z "${JWT_SECRET:-}" && -f "$(dirname "$0")/.env" ]]; then
  JWT_SECRET="$(grep -E '^JWT_SECRET=' "$(dirname "$0")/.env" | cut -d= -f2-)"
fi
: "${JWT_SECRET:?set JWT_SECRET or deploy/.env}"
b64() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64)
claims=$(printf '{"sub":"%s","exp":%d}' "$user" $(( $(date +%s) + 3600 )) | b64)
signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -hmac "$JWT_SECRET" -binary | b64)
echo "$header.$claims.$signature"
