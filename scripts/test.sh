#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs ctest (unit and integration; the integration
# tests start private redis-server and mosquitto processes on free loopback ports and stop them by PID).
# Then the same suite again under ThreadSanitizer, and under AddressSanitizer +
# UndefinedBehaviorSanitizer (SANITIZERS=none|address|thread|all; default all). Ends with each
# stage's build and test seconds and its count of tests passed.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Paho's token signalling is suppressed (third-party, uninstrumented); see the file.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:suppressions=$PWD/tests/tsan.supp}
# Two tests per core: most tests wait on servers and timers, so this halves the test time
# (docs/ci.md). TEST_JOBS=2 on a loaded machine.
TEST_JOBS=${TEST_JOBS:-$(( $(nproc) * 2 ))}
# The last stage's tests have the cores to themselves (no build beside them): half as many again.
LAST_TEST_JOBS=${LAST_TEST_JOBS:-$(( TEST_JOBS * 3 / 2 ))}
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

# Each stage's build, from its own folder. The sanitizer builds need no benchmarks; CMakeLists.txt
# compiles them at -Og -g1 whatever the type. Their libraries compile in larger unity units than a
# developer's build/ (cmake/build_speed.cmake): a third less compile time, and nobody edits there.
build_stage() {  # build_stage STAGE
  local BUILD_DIR sanitizer_options=(-DROUTEMQ_BUILD_BENCH=OFF -DROUTEMQ_UNITY_BATCH=16)
  BUILD_DIR=$(stage_dir "$1")
  export BUILD_DIR
  case "$1" in
    Release) ./scripts/build.sh ;;
    ASan+UBSan) BUILD_TYPE=RelWithDebInfo ./scripts/build.sh -DROUTEMQ_SANITIZE=address "${sanitizer_options[@]}" ;;
    TSan) BUILD_TYPE=RelWithDebInfo ./scripts/build.sh -DROUTEMQ_SANITIZE=thread "${sanitizer_options[@]}" ;;
  esac
}
kill_tree() {  # kill_tree PID: it and everything it started (a background build: cmake, ninja, compilers)
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
stage_dir() { case "$1" in Release) echo build ;; ASan+UBSan) echo build-asan ;; TSan) echo build-tsan ;; esac; }

test_stage() {  # test_stage STAGE BUILD_SECONDS JOBS: runs its tests, adds its line to the summary
  local stage=$1 build_seconds=$2 jobs=$3 build_dir started=$SECONDS status=0
  build_dir=$(stage_dir "$1")
  echo "== test $build_dir"
  local log=$build_dir/ctest.log
  ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j"$jobs" --timeout 300 2>&1 | tee "$log" || status=$?
  # ctest's own closing line: "100% tests passed, 0 tests failed out of 245".
  local stage_failed stage_total counts="no count"
  read -r stage_failed stage_total < <(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$log" | awk '{print $1, $6}') || true
  if [[ -n "${stage_total:-}" ]]; then
    counts="$((stage_total - stage_failed)) of $stage_total passed"
    passed=$((passed + stage_total - stage_failed)) failed=$((failed + stage_failed))
  fi
  summary+=("$(printf '%-12s %7s %7d  %s' "$stage" "$build_seconds" $((SECONDS - started)) "$counts")")
  return "$status"
}

# The compose file must stay valid though no Docker engine runs here (Debian's docker-compose checks it).
echo "== docker-compose config"
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml -f docker-compose.tls.yml config -q
docker-compose -f docker-compose.yml -f docker-compose.sentinel.yml config -q

case "${SANITIZERS:-all}" in
  none|address|thread|all) ;;
  *) echo "SANITIZERS must be none, address, thread or all" >&2; exit 2 ;;
esac
# ASan+UBSan last: its tests are the shorter, and the last stage's tests have no build beside them.
stages=(Release)
case "${SANITIZERS:-all}" in thread|all) stages+=(TSan) ;; esac
case "${SANITIZERS:-all}" in address|all) stages+=(ASan+UBSan) ;; esac

# The next stage builds while this one's tests run, at the lowest CPU priority: most tests wait on
# servers and timers, and the compiler takes the cores they leave (docs/ci.md). Its output goes to
# its folder's build.log, printed once the tests are done. A failing stage ends the run.
echo "== build build"
started=$SECONDS
build_stage Release
build_seconds=$((SECONDS - started))
for i in "${!stages[@]}"; do
  next=${stages[$((i + 1))]:-}
  if [[ -n "$next" ]]; then
    next_dir=$(stage_dir "$next")
    mkdir -p "$next_dir"
    next_started=$SECONDS
    # The subshell lowers its own priority before it starts anything: what it starts inherits it.
    (renice -n 19 -p "$BASHPID" >/dev/null; build_stage "$next" >"$next_dir/build.log" 2>&1; echo $? >"$next_dir/build.status") &
    next_build=$!
  fi
  test_status=0
  jobs=$TEST_JOBS
  [[ -z "$next" ]] && jobs=$LAST_TEST_JOBS
  test_stage "${stages[$i]}" "$build_seconds" "$jobs" || test_status=$?
  [[ -z "$next" ]] && exit "$test_status"
  if [[ $test_status -ne 0 ]]; then
    kill_tree "$next_build"
    exit "$test_status"
  fi
  wait "$next_build" || true
  echo "== build $next_dir (beside the tests above)"
  cat "$next_dir/build.log"
  [[ "$(cat "$next_dir/build.status")" == 0 ]] || exit 1
  build_seconds="$((SECONDS - next_started))*"
done
