#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs ctest (unit and integration; the integration
# tests start private redis-server and mosquitto processes on free loopback ports and stop them by PID).
# Then the same suite again under AddressSanitizer + UndefinedBehaviorSanitizer, and under
# ThreadSanitizer (SANITIZERS=none|address|thread|all; default all). Ends with each stage's build and
# test seconds and its count of tests passed.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Paho's token signalling is suppressed (third-party, uninstrumented); see the file.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:suppressions=$PWD/tests/tsan.supp}
# Most integration tests wait on servers, not on the CPU: twice as many tests as cores keeps both busy.
TEST_JOBS=${TEST_JOBS:-$(( $(nproc) * 2 ))}
./scripts/install-deps.sh

summary=()
print_summary() {
  [[ ${#summary[@]} -eq 0 ]] && return
  echo "== summary (seconds)"
  printf '%-12s %7s %7s  %s\n' stage build test tests
  printf '%s\n' "${summary[@]}"
}
trap print_summary EXIT

run_suite() {  # run_suite STAGE BUILD_DIR [cmake args...]
  local stage=$1 build_dir=$2; shift 2
  local started=$SECONDS
  echo "== build $build_dir $*"
  BUILD_DIR=$build_dir ./scripts/build.sh "$@"
  local built=$SECONDS
  echo "== test $build_dir"
  local log=$build_dir/ctest.log status=0
  ctest --test-dir "$build_dir" --output-on-failure -j"$TEST_JOBS" --timeout 300 2>&1 | tee "$log" || status=$?
  local counts
  counts=$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$log" | awk '{print $6 - $1 " of " $6 " passed"}')
  summary+=("$(printf '%-12s %7d %7d  %s' "$stage" $((built - started)) $((SECONDS - built)) "${counts:-no count}")")
  return "$status"
}

# The compose file must stay valid though no Docker engine runs here (Debian's docker-compose checks it).
echo "== docker-compose config"
docker-compose -f docker-compose.yml config -q

# The sanitizer builds need no benchmarks; CMakeLists.txt compiles them at -Og -g1 whatever the type.
sanitized() {  # sanitized STAGE BUILD_DIR address|thread
  BUILD_TYPE=RelWithDebInfo run_suite "$1" "$2" -DROUTEMQ_SANITIZE="$3" -DROUTEMQ_BUILD_BENCH=OFF
}
case "${SANITIZERS:-all}" in
  none|address|thread|all) ;;
  *) echo "SANITIZERS must be none, address, thread or all" >&2; exit 2 ;;
esac
run_suite Release build
case "${SANITIZERS:-all}" in address|all) sanitized ASan+UBSan build-asan address ;; esac
case "${SANITIZERS:-all}" in thread|all) sanitized TSan build-tsan thread ;; esac
