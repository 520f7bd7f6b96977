#!/usr/bin/env bash
# Configures and builds into BUILD_DIR (default build/), Release unless BUILD_TYPE says otherwise.
# Extra arguments go to CMake's configure step (e.g. -DROUTEMQ_SANITIZE=address).
# BUILD_TARGET builds one target only (run.sh builds just the service).
# Ninja when installed (it starts the next job sooner than make and keeps .ninja_log, the per-file
# times); a folder configured earlier keeps its generator.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
generator=()
if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
