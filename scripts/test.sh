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
# Two tests per core: most tests wait on servers and timers, so this halves the test time
# (docs/ci.md). TEST_JOBS=2 on a loaded machine.
TEST_JOBS=${TEST_JOBS:-$(( $(nproc) * 2 ))}
./scripts/install-deps.sh

summary=() passed=0 failed=0
print_summary() {
  [[ ${#summary[@]} -eq 0 ]] && return
  echo "== summary (seconds)"
  printf '%-12s %7s %7s  %s\n' stage build test tests
  printf '%s\n' "${summary[@]}"
  echo "all stages: $passed passed, $failed failed"
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
  ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j"$TEST_JOBS" --timeout 300 2>&1 | tee "$log" || status=$?
  # ctest's own closing line: "100% tests passed, 0 tests failed out of 245".
  local stage_failed stage_total counts="no count"
  read -r stage_failed stage_total < <(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$log" | awk '{print $1, $6}') || true
  if [[ -n "${stage_total:-}" ]]; then
    counts="$((stage_total - stage_failed)) of $stage_total passed"
    passed=$((passed + stage_total - stage_failed)) failed=$((failed + stage_failed))
  fi
  summary+=("$(printf '%-12s %7d %7d  %s' "$stage" $((built - started)) $((SECONDS - built)) "$counts")")
  return "$status"
}

# The compose file must stay valid though no Docker engine runs here (Debian's docker-compose checks it).
echo "== docker-compose config"
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml -f docker-compose.tls.yml config -q
docker-compose -f docker-compose.yml -f docker-compose.sentinel.yml config -q

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
