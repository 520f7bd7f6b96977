#!/usr/bin/env bash
# A private CA and certificates for TLS to Redis, for docker-compose.tls.yml and local trials:
#
#   ./scripts/make-tls-certs.sh [DIR]     # default config/tls (ignored by git)
#
# Writes ca.crt (what the app trusts: REDIS_TLS_CA_FILE), redis.crt/.key (the server's: names redis,
# localhost and 127.0.0.1) and app.crt/.key (a client certificate, for mutual TLS). EC P-256, valid
# 825 days. For local use only: the keys are made readable to the containers' users. In production,
# use your CA's certificates, or the managed service's CA.
set -euo pipefail
out=${1:-config/tls}
mkdir -p "$out"
cd "$out"
new_key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

openssl req -x509 "${new_key[@]}" -keyout ca.key -out ca.crt -days 825 -subj "/CN=routemq-local-ca" 2>/dev/null

sign() {  # sign NAME SUBJECT_ALT_NAMES
  local name=$1
  openssl req "${new_key[@]}" -keyout "$name.key" -out "$name.csr" -subj "/CN=$name" 2>/dev/null
  printf 'subjectAltName=%s\n' "$2" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" -days 825 \
    -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
sign redis "DNS:redis,DNS:localhost,IP:127.0.0.1"
sign app "DNS:app"
chmod 644 ./*.crt ./*.key  # the redis and app containers run as their own users
echo "make-tls-certs: CA and certificates in $PWD"
