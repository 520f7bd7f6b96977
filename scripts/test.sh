#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs ctest (unit and integration; the integration
# tests start private redis-server and mosquitto processes on free loopback ports and stop them by PID).
# Then the same suite again under AddressSanitizer + UndefinedBehaviorSanitizer, and under
# ThreadSanitizer (SANITIZERS=none|address|thread|all; default all).
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Paho's token signalling is suppressed (third-party, uninstrumented); see the file.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:suppressions=$PWD/tests/tsan.supp}
./scripts/install-deps.sh

run_suite() {  # run_suite BUILD_DIR [cmake args...]
  local build_dir=$1; shift
  echo "== build $build_dir $*"
  BUILD_DIR=$build_dir ./scripts/build.sh "$@"
  echo "== test $build_dir"
  ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" --timeout 300
}

# The compose file must stay valid though no Docker engine runs here (Debian's docker-compose checks it).
echo "== docker-compose config"
docker-compose -f docker-compose.yml config -q

run_suite build
case "${SANITIZERS:-all}" in
  none) ;;
  address) BUILD_TYPE=RelWithDebInfo run_suite build-asan -DROUTEMQ_SANITIZE=address ;;
  thread) BUILD_TYPE=RelWithDebInfo run_suite build-tsan -DROUTEMQ_SANITIZE=thread ;;
  all)
    BUILD_TYPE=RelWithDebInfo run_suite build-asan -DROUTEMQ_SANITIZE=address
    BUILD_TYPE=RelWithDebInfo run_suite build-tsan -DROUTEMQ_SANITIZE=thread ;;
  *) echo "SANITIZERS must be none, address, thread or all" >&2; exit 2 ;;
esac
