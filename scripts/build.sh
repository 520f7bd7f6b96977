#!/usr/bin/env bash
# Configures and builds into BUILD_DIR (default build/), Release unless BUILD_TYPE says otherwise.
# Extra arguments go to CMake's configure step (e.g. -DROUTEMQ_SANITIZE=address).
# BUILD_TARGET builds one target only (run.sh builds just the service).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
