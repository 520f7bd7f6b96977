#!/usr/bin/env bash
# Runs the example service: installs what is missing, builds, starts a local mosquitto and redis-server
# on loopback unless MQTT_BROKER / REDIS_HOST (or REDIS_URL) point at real ones, then serves in the
# foreground. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD_TARGET=routemq ./scripts/build.sh

# shellcheck source=scripts/local-servers.sh
source scripts/local-servers.sh
trap stop_local_servers EXIT
[[ -f .env ]] && { set -a; source .env; set +a; }
if [[ -z "${MQTT_BROKER:-}" ]]; then start_local_mosquitto; fi
if [[ -z "${REDIS_HOST:-}" && -z "${REDIS_URL:-}" ]]; then start_local_redis; fi

# Not exec: the servers are stopped after the service exits. In the background, so that a SIGTERM or
# SIGHUP sent to this script (a supervisor, `kill`, a closed terminal) reaches the service too: the
# shell runs a trap only between commands, and bash leaves a foreground child running when it dies.
# Ctrl-C reaches both anyway (one process group); the service stops on the first signal.
"${BUILD_DIR:-build}/bin/routemq" run --config "${ROUTEMQ_CONFIG:-config/app.yaml}" "$@" &
service=$!
signalled=false
trap 'signalled=true; kill -TERM "$service" 2>/dev/null || true' TERM INT HUP
# `wait` returns early when a trapped signal arrives: then wait again, until the service has exited.
while :; do
  signalled=false status=0
  wait "$service" || status=$?
  if ! $signalled || ! kill -0 "$service" 2>/dev/null; then break; fi
done
exit "$status"
