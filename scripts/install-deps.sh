#!/usr/bin/env bash
# Installs every build, test and run dependency from Debian bookworm's packages.
# Idempotent: when everything is present it prints nothing and touches nothing.
#   ./scripts/install-deps.sh         # build, test and run
#   ./scripts/install-deps.sh bench   # and what scripts/bench.sh uses besides (curl, gnuplot, libmosquitto-dev)
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ninja-build ccache mold
  libboost-dev libboost-system-dev libssl-dev
  libpaho-mqtt-dev libpaho-mqttpp-dev
  libhiredis-dev  # tests and benchmarks only (the libraries read RESP themselves)
  libyaml-cpp-dev nlohmann-json3-dev
  libspdlog-dev libfmt-dev libcli11-dev
  prometheus-cpp-dev
  catch2
  mosquitto mosquitto-clients
  redis-server redis-tools redis-sentinel
  procps openssl
  docker-compose
)
# libmosquitto-dev: bench_mqtt_latency and bench_mqtt_echo only (the library itself never uses it).
if [[ "${1:-}" == "bench" ]]; then PACKAGES+=(curl gnuplot-nox libmosquitto-dev); fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged services must not hold the default ports: we start our own.
for svc in mosquitto redis-server redis-sentinel; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
    $SUDO systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done
