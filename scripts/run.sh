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

# Not exec: the trap must stop the servers after the service exits.
build/bin/routemq run --config "${ROUTEMQ_CONFIG:-config/app.yaml}" "$@"
