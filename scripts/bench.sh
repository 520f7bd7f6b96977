#!/usr/bin/env bash
# Benchmarks, each against a peer measured in the same run (machines are shared and noisy: the
# ratios are the result, absolute figures move by 30% or more). Writes docs/benchmarks.md.
#
#   ./scripts/bench.sh                 # everything
#   BENCH_SECONDS=5 ./scripts/bench.sh # longer measurements
#
# Environment: BUILD_DIR (default build), BENCH_SECONDS (per bench_redis measurement, default 3),
# BENCH_REQUESTS (redis-benchmark -n, default 1000000), BENCH_CONNECTIONS (RedisManager connections,
# default: the plugin's default of 4), BENCH_DOC (default docs/benchmarks.md), BENCH_ROUTING_SECONDS
# (per bench_routing measurement, default 1), BENCH_ONLY (comma list of parts to run: redis, middleware,
# routing, e2e, acks, latency, crash, tls, failover, cluster; default all), BENCH_E2E_MESSAGES (default 100000),
# BENCH_CLUSTER_ROUNDS (rounds of the cluster's peer and manager, default 5), BENCH_CLUSTER_REQUESTS
# (the cluster peer's redis-benchmark -n, default 4000000), BENCH_SKIP_BUILD (1: no build step).
#
# TLS, failover behind Sentinel, and Redis Cluster: scripts/bench-redis-ha.sh. Answer latency at fixed
# rates beside a bare echo: scripts/bench-latency.sh; SIGKILL under load: scripts/bench-crash.sh (both
# for each BENCH_MQTT_CLIENTS, default "native paho").
#
# Middleware: build/bin/bench_middleware (decisions/s of each middleware at 1000 devices, beside
# plain GET) on the same redis-server. Route matching: build/bin/bench_routing (the trie vs a
# linear regex scan, 10 to 100k routes; goals >= 100x at 10k routes, trie cost at 100k within 2x of
# its cost at 10).
#
# End to end: a private mosquitto (config/mosquitto.conf on a free loopback port); build/bin/bench_e2e
# sends BENCH_E2E_MESSAGES (default 100000) messages of 64 bytes at QoS 0 and 1 to (a) a bare Paho
# subscriber, (b) the telemetry route without middleware, (c) with rate_limit + dedupe on Redis; then
# at half of (a)'s rate for latency. Goals: (c) >= 60% of (a) at QoS 0, p99 <= 5 ms at half rate.
# Then the real service (build/bin/routemq, the telemetry route with rate_limit + dedupe): startup
# time to /ready beside a bare client's connect, RSS idle and under load (c), bytes per in-flight message.
#
# Redis: a private redis-server on a free loopback port; redis-benchmark with -P 16 (the pipelined
# ceiling) and without (one request per round trip per client); build/bin/bench_redis (RedisManager
# at 1..1000 coroutines, and a synchronous hiredis loop). Goals: RedisManager at 1000 coroutines
# >= 60% of redis-benchmark -P 16, and >= 5x the synchronous hiredis loop.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_DIR:-build}
seconds=${BENCH_SECONDS:-3}
requests=${BENCH_REQUESTS:-1000000}
connections=${BENCH_CONNECTIONS:-4}
doc=${BENCH_DOC:-docs/benchmarks.md}
mkdir -p "$(dirname "$doc")"  # the plots are written beside it
goal_pipelined_pct=60  # RedisManager c=1000 vs redis-benchmark -c 50 -P 16
goal_sync_x=5          # RedisManager c=1000 vs one synchronous hiredis connection

work_dir=$(mktemp -d /tmp/routemq-bench.XXXXXX)
# shellcheck source=scripts/local-servers.sh
source scripts/local-servers.sh  # mosquitto for the end-to-end part; free_port
# shellcheck source=scripts/bench-e2e.sh
source scripts/bench-e2e.sh
# shellcheck source=scripts/bench-acks.sh
source scripts/bench-acks.sh
# shellcheck source=scripts/bench-redis-ha.sh
source scripts/bench-redis-ha.sh
# shellcheck source=scripts/bench-latency.sh
source scripts/bench-latency.sh
# shellcheck source=scripts/bench-crash.sh
source scripts/bench-crash.sh

cleanup() {
  stop_ha_servers
  stop_echo
  stop_latency_echo
  stop_crash_monitor
  stop_service
  stop_local_servers
  rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

# The private mosquitto the MQTT parts share, started once. It logs subscriptions too (mosquitto's
# defaults plus `subscribe`): the acks part waits on them to know its counter is subscribed.
bench_mosquitto() {
  [[ -z "${bench_mosquitto_port:-}" ]] || return 0
  start_local_mosquitto "$(printf 'log_type %s\n' error warning notice information subscribe)" >&2
  bench_mosquitto_port=$MQTT_PORT
  bench_mosquitto_pid=${_local_server_pids[-1]}
}

# ---- machine

machine_line() {
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' || echo unknown cpu)), load average $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min), $(uname -sr)"
}

# ---- redis-benchmark

# redis_benchmark_rps NAME ARGS...: runs redis-benchmark -q and prints "GET=<rps> SET=<rps>".
redis_benchmark_rps() {
  local name=$1
  shift
  redis-benchmark -h 127.0.0.1 -p "$redis_port" -n "$requests" -t get,set -q "$@" </dev/null \
    | tr '\r' '\n' >"$work_dir/$name.txt"
  local get set
  get=$(awk '/^GET: [0-9.]+ requests per second/ {v=$2} END {print v}' "$work_dir/$name.txt")
  set=$(awk '/^SET: [0-9.]+ requests per second/ {v=$2} END {print v}' "$work_dir/$name.txt")
  if [[ -z "$get" || -z "$set" ]]; then
    echo "bench: cannot read redis-benchmark's output ($name):" >&2
    cat "$work_dir/$name.txt" >&2
    exit 1
  fi
  printf 'GET=%.0f SET=%.0f\n' "$get" "$set"
}

# ---- bench_redis results

# line_field FILE TAG FIELD [KEY=VALUE ...]: FIELD's value on the "TAG key=value ..." lines of FILE
# that carry every KEY=VALUE given (the last such line's): the one reader of every benchmark program's
# output lines (RESULT, RATIO).
line_field() {
  local file=$1 tag=$2 field=$3
  shift 3
  awk -v tag="$tag" -v field="$field" -v selectors="$*" '
    BEGIN { wanted = split(selectors, want, " ") }
    $1 == tag {
      split("", kv)
      for (i = 2; i <= NF; i++) { eq = index($i, "="); if (eq) kv[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
      for (j = 1; j <= wanted; j++) { eq = index(want[j], "="); if (kv[substr(want[j], 1, eq - 1)] != substr(want[j], eq + 1)) next }
      value = kv[field]; found = 1
    }
    END { if (found) print value }' "$file"
}

# result NAME FIELD C: one field (ops, p50_us, p99_us) of bench_redis's "RESULT name=NAME c=C ..." line.
result() { line_field "$work_dir/bench_redis.txt" RESULT "$2" "name=$1" "c=$3"; }

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# percent A B: A/B in whole percent.
percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? a / b * 100 : 0) }'; }

# verdict RATIO GOAL UNIT: "met (x)" or "missed by ...".
verdict() {
  awk -v r="$1" -v g="$2" -v unit="$3" 'BEGIN {
    if (r >= g) { printf "met (%g%s >= %g%s)", r, unit, g, unit; exit }
    printf "**missed**: %g%s vs >= %g%s (%.0f%% short; needs %.2fx the throughput)", r, unit, g, unit, (1 - r / g) * 100, g / r }'
}

# ---- the Redis section

# plot PNG ALT: renders the gnuplot commands on stdin into PNG beside the doc (terminal and output are
# set here) and prints the Markdown image, or why there is no plot.
plot() {
  local png=$1 alt=$2
  if ! command -v gnuplot >/dev/null 2>&1; then
    cat >/dev/null
    echo "No plot: gnuplot is not installed (\`./scripts/install-deps.sh bench\` and rerun to get \`$png\`)."
    return
  fi
  if { printf 'set terminal pngcairo size 800,480 noenhanced\nset output "%s"\n' "$(dirname "$doc")/$png"; cat; } \
    | gnuplot 2>"$work_dir/gnuplot.err"; then
    echo "![$alt]($png)"
  else
    echo "No plot: gnuplot failed ($(head -n 1 "$work_dir/gnuplot.err"))."
  fi
}

plot_redis() {
  : >"$work_dir/plot.dat"
  for c in "${concurrencies[@]}"; do
    echo "$c $(result routemq_get ops "$c") $(result routemq_set ops "$c") $(result routemq_shared_get ops "$c") $(result routemq_shared_set ops "$c")" >>"$work_dir/plot.dat"
  done
  plot redis_throughput.png "RedisManager throughput" <<EOF
set title "RedisManager throughput vs concurrent coroutines (same run as redis-benchmark)"
set logscale x
set xlabel "concurrent coroutines"
set ylabel "ops/s"
set key left top
set grid
plot "$work_dir/plot.dat" using 1:2 with linespoints title "routemq GET (own io thread)", \
     "$work_dir/plot.dat" using 1:3 with linespoints title "routemq SET (own io thread)", \
     "$work_dir/plot.dat" using 1:4 with linespoints title "routemq GET (callers' io_context)", \
     "$work_dir/plot.dat" using 1:5 with linespoints title "routemq SET (callers' io_context)", \
     $pipelined_get title "redis-benchmark -c 50 -P 16 GET" dt 2, \
     $pipelined_set title "redis-benchmark -c 50 -P 16 SET" dt 3, \
     $sync_get title "sync hiredis GET" dt 4
EOF
}

# ratio_rows MODE GET SET: the three ratio rows of one way of running the manager.
ratio_rows() {
  local mode=$1 get=$2 set=$3
  local pct_get pct_set plain_pct_get plain_pct_set x_get x_set
  pct_get=$(percent "$get" "$pipelined_get")
  pct_set=$(percent "$set" "$pipelined_set")
  plain_pct_get=$(percent "$get" "$plain_get")
  plain_pct_set=$(percent "$set" "$plain_set")
  x_get=$(ratio "$get" "$sync_get")
  x_set=$(ratio "$set" "$sync_set")
  echo "| $mode: redis-benchmark -c 50 -P 16 | ${pct_get}% | ${pct_set}% | >= ${goal_pipelined_pct}% | $(verdict "$pct_get" "$goal_pipelined_pct" "%") | $(verdict "$pct_set" "$goal_pipelined_pct" "%") |"
  echo "| $mode: redis-benchmark -c 50 (no pipelining) | ${plain_pct_get}% | ${plain_pct_set}% | (none) | | |"
  echo "| $mode: synchronous hiredis loop | ${x_get}x | ${x_set}x | >= ${goal_sync_x}x | $(verdict "$x_get" "$goal_sync_x" "x") | $(verdict "$x_set" "$goal_sync_x" "x") |"
}

write_redis_section() {
  local out=$1
  {
    echo "<!-- redis:begin (generated by scripts/bench.sh; edits here are overwritten) -->"
    echo "## Redis"
    echo
    echo "Command: \`./scripts/bench.sh\` (BENCH_SECONDS=$seconds, BENCH_REQUESTS=$requests, BENCH_CONNECTIONS=$connections), run $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    echo "Machine: $machine_before."
    echo "Load average when bench_redis ran: $(grep '^LOADAVG at=start' "$work_dir/bench_redis.txt" | cut -d' ' -f3-) at start, $(grep '^LOADAVG at=end' "$work_dir/bench_redis.txt" | cut -d' ' -f3-) at end (1/5/15 min; other work on this machine at the time shows here: the ratios, measured in the same minutes, are the result)."
    echo
    echo "redis-server $redis_version on a private loopback port, no persistence. Keys 16 bytes, values 3 bytes (redis-benchmark's defaults). RedisManager: $connections connection(s), the coroutines on one io_context thread; the manager either on its own io thread (\`RedisManager(config)\`, the service's singleton: two thread hops per command) or on a strand of the coroutines' io_context (\`RedisManager(config, io)\`: no hop). Latency is per \`co_await\`: what a handler sees."
    echo
    echo "| measurement | concurrency | GET ops/s | GET p50 µs | GET p99 µs | SET ops/s | SET p50 µs | SET p99 µs |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "| redis-benchmark -P 16 (pipelined peer) | 50 clients | $pipelined_get | | | $pipelined_set | | |"
    echo "| redis-benchmark (no pipelining) | 50 clients | $plain_get | | | $plain_set | | |"
    for c in "${concurrencies[@]}"; do
      echo "| RedisManager, own io thread | $c | $(result routemq_get ops "$c") | $(result routemq_get p50_us "$c") | $(result routemq_get p99_us "$c") | $(result routemq_set ops "$c") | $(result routemq_set p50_us "$c") | $(result routemq_set p99_us "$c") |"
    done
    for c in "${concurrencies[@]}"; do
      echo "| RedisManager, callers' io_context | $c | $(result routemq_shared_get ops "$c") | $(result routemq_shared_get p50_us "$c") | $(result routemq_shared_get p99_us "$c") | $(result routemq_shared_set ops "$c") | $(result routemq_shared_set p50_us "$c") | $(result routemq_shared_set p99_us "$c") |"
    done
    echo "| synchronous hiredis loop (bare-client peer) | 1 | $sync_get | $(result hiredis_sync_get p50_us 1) | $(result hiredis_sync_get p99_us 1) | $sync_set | $(result hiredis_sync_set p50_us 1) | $(result hiredis_sync_set p99_us 1) |"
    echo
    echo "| ratio (RedisManager at 1000 coroutines vs) | GET | SET | goal | GET verdict | SET verdict |"
    echo "|---|---|---|---|---|---|"
    ratio_rows "own io thread" "$routemq_get" "$routemq_set"
    ratio_rows "callers' io_context" "$shared_get" "$shared_set"
    echo
    plot_redis
    echo
    echo "<!-- redis:end -->"
  } >"$out"
}

# splice_section FILE NAME: replaces the doc's section NAME (between its markers) with FILE, keeping
# every other section; appends it when the doc has none yet.
splice_section() {
  local section=$1 name=$2
  mkdir -p "$(dirname "$doc")"
  if [[ ! -f "$doc" ]]; then
    {
      echo "# Benchmarks"
      echo
      echo "Every figure here comes from \`./scripts/bench.sh\`. Machines are shared and noisy: each benchmark measures its peer in the same run, and the ratios are what to compare between runs."
      echo
    } >"$doc"
  fi
  if grep -q "^<!-- $name:begin" "$doc"; then
    awk -v section="$section" -v begin="^<!-- $name:begin" -v end="^<!-- $name:end -->" '
      $0 ~ begin { while ((getline line < section) > 0) print line; skipping = 1; next }
      $0 ~ end { skipping = 0; next }
      !skipping { print }' "$doc" >"$work_dir/doc.md"
    cat "$work_dir/doc.md" >"$doc"
  else
    cat "$section" >>"$doc"
  fi
}

# ---- route matching

# routing_result FIELD ROUTES: trie_ns or regex_ns of bench_routing's "RESULT routes=N ..." line.
routing_result() { line_field "$work_dir/bench_routing.txt" RESULT "$1" "routes=$2"; }

plot_routing() {
  local n
  : >"$work_dir/routing_plot.dat"
  for n in 10 100 1000 10000 100000; do
    echo "$n $(routing_result trie_ns "$n") $(routing_result regex_ns "$n")" >>"$work_dir/routing_plot.dat"
  done
  plot routing.png "route lookup cost" <<EOF
set title "Route lookup: ns per match vs routes in the table (same run)"
set logscale xy
set xlabel "routes"
set ylabel "ns per match"
set key left top
set grid
plot "$work_dir/routing_plot.dat" using 1:2 with linespoints title "routemq trie", \
     "$work_dir/routing_plot.dat" using 1:3 with linespoints title "linear scan of std::regex"
EOF
}

write_routing_section() {
  local out=$1 sizes=(10 100 1000 10000 100000)
  local gain_10k growth
  gain_10k=$(ratio "$(routing_result regex_ns 10000)" "$(routing_result trie_ns 10000)")
  growth=$(ratio "$(routing_result trie_ns 100000)" "$(routing_result trie_ns 10)")
  {
    echo "<!-- routing:begin (generated by scripts/bench.sh; edits here are overwritten) -->"
    echo "## Route matching"
    echo
    echo "Command: \`./scripts/bench.sh\` (\`build/bin/bench_routing --seconds $routing_seconds\`), run $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $machine_before."
    echo
    echo "Realistic IoT route shapes (params, \`+\` and \`#\` mixed), every looked-up topic matching one route drawn evenly over the table. The peer is a linear scan of compiled \`std::regex\` patterns, what a Python router does, in the same binary."
    echo
    echo "| routes | trie ns/match | trie matches/s | regex scan ns/match | trie vs regex |"
    echo "|---|---|---|---|---|"
    for n in "${sizes[@]}"; do
      local trie regex
      trie=$(routing_result trie_ns "$n")
      regex=$(routing_result regex_ns "$n")
      echo "| $n | $trie | $(awk -v t="$trie" 'BEGIN { printf "%.0f", 1e9 / t }') | $regex | $(ratio "$regex" "$trie")x |"
    done
    echo
    echo "| goal | measured | verdict |"
    echo "|---|---|---|"
    echo "| at 10k routes, >= 100x the regex scan | ${gain_10k}x | $(verdict "$gain_10k" 100 "x") |"
    echo "| trie cost at 100k routes within 2x of its cost at 10 | ${growth}x | $(awk -v g="$growth" 'BEGIN { if (g <= 2) printf "met (%gx <= 2x)", g; else printf "**missed**: %gx vs <= 2x (%.0f%% over)", g, (g / 2 - 1) * 100 }') |"
    echo
    plot_routing
    echo
    echo "<!-- routing:end -->"
  } >"$out"
}

# ---- middleware

middleware_result() { line_field "$work_dir/bench_middleware.txt" RESULT "$1" "name=$2"; }

write_middleware_section() {
  local out=$1 get_ops
  get_ops=$(middleware_result ops plain_get)
  {
    echo "<!-- middleware:begin (generated by scripts/bench.sh; edits here are overwritten) -->"
    echo "## Middleware decisions"
    echo
    echo "Command: \`./scripts/bench.sh\` (\`build/bin/bench_middleware --seconds $seconds --concurrency 1000\`), run $(date -u '+%Y-%m-%d %H:%M UTC'), against the same redis-server as the Redis section. Load average: $(grep '^LOADAVG at=start' "$work_dir/bench_middleware.txt" | cut -d' ' -f3-) at start, $(grep '^LOADAVG at=end' "$work_dir/bench_middleware.txt" | cut -d' ' -f3-) at end."
    echo
    echo "1000 devices publishing at once, each message through one middleware built from YAML options as the app builds it (Chain + Context, no MQTT), beside plain \`GET\` through the same RedisManager in the same run. A decision is one Lua script call (rate_limit) or two (dedupe: claim + done; session: load + save; lock: acquire + release)."
    echo
    echo "| measurement | decisions/s | p50 µs | p99 µs | vs plain GET | Redis calls | per call vs GET |"
    echo "|---|---|---|---|---|---|---|"
    echo "| plain GET (peer) | $get_ops | $(middleware_result p50_us plain_get) | $(middleware_result p99_us plain_get) | 1.00 | 1 | 1.00 |"
    for name in rate_limit_gcra rate_limit_sliding dedupe session lock; do
      local calls
      calls=$(line_field "$work_dir/bench_middleware.txt" RATIO redis_calls "name=$name")
      local ops vs
      ops=$(middleware_result ops "$name")
      vs=$(ratio "$ops" "$get_ops")
      echo "| $name | $ops | $(middleware_result p50_us "$name") | $(middleware_result p99_us "$name") | $vs | $calls | $(awk -v v="$vs" -v c="$calls" 'BEGIN { printf "%.2f", v * c }') |"
    done
    echo
    echo "<!-- middleware:end -->"
  } >"$out"
}

# ---- run

./scripts/install-deps.sh bench
# BENCH_SKIP_BUILD=1: run the binaries already in $build_dir/bin (a build dir someone else is building).
if [[ -z "${BENCH_SKIP_BUILD:-}" ]]; then
  for target in bench_redis bench_middleware bench_routing bench_e2e bench_failover bench_mqtt_latency bench_mqtt_echo routemq; do
    log "building $target (Release) in $build_dir"
    BUILD_DIR="$build_dir" BUILD_TARGET=$target ./scripts/build.sh
  done
fi

machine_before=$(machine_line)
log "machine: $machine_before"
start_local_redis $((20000 + RANDOM % 20000)) >&2 || exit 1
redis_port=$REDIS_PORT
redis_version=$(redis-server --version | grep -o 'v=[^ ]*' | cut -d= -f2)

# wants PART: true when BENCH_ONLY is unset or lists PART.
wants() { [[ -z "${BENCH_ONLY:-}" || ",$BENCH_ONLY," == *",$1,"* ]]; }

bench_redis_part() {
  log "redis-benchmark -c 50 -P 16 -n $requests (pipelined peer)"
  pipelined=$(redis_benchmark_rps pipelined -c 50 -P 16)  # an assignment, so a failure stops the script
  read -r pipelined_get pipelined_set <<<"$(echo "$pipelined" | sed 's/GET=//; s/SET=//')"
  log "redis-benchmark -c 50 -n $requests (no pipelining)"
  plain=$(redis_benchmark_rps plain -c 50)
  read -r plain_get plain_set <<<"$(echo "$plain" | sed 's/GET=//; s/SET=//')"

  log "bench_redis --seconds $seconds --connections $connections"
  "$build_dir/bin/bench_redis" --port "$redis_port" --seconds "$seconds" --connections "$connections" \
    | tee "$work_dir/bench_redis.txt"

  concurrencies=(1 10 100 1000)
  routemq_get=$(result routemq_get ops 1000)
  routemq_set=$(result routemq_set ops 1000)
  shared_get=$(result routemq_shared_get ops 1000)
  shared_set=$(result routemq_shared_set ops 1000)
  sync_get=$(result hiredis_sync_get ops 1)
  sync_set=$(result hiredis_sync_set ops 1)

  echo
  echo "== Redis: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-56s %12s %12s\n' "" "GET ops/s" "SET ops/s"
  printf '%-56s %12.0f %12.0f\n' "redis-benchmark -c 50 -P 16" "$pipelined_get" "$pipelined_set"
  printf '%-56s %12.0f %12.0f\n' "redis-benchmark -c 50" "$plain_get" "$plain_set"
  printf '%-56s %12.0f %12.0f\n' "RedisManager, 1000 coroutines, own io thread" "$routemq_get" "$routemq_set"
  printf '%-56s %12.0f %12.0f\n' "RedisManager, 1000 coroutines, callers' io_context" "$shared_get" "$shared_set"
  printf '%-56s %12.0f %12.0f\n' "synchronous hiredis loop" "$sync_get" "$sync_set"
  echo "RedisManager@1000 vs the peers (goals: >= ${goal_pipelined_pct}% of redis-benchmark -P 16, >= ${goal_sync_x}x the synchronous loop):"
  ratio_rows "own io thread" "$routemq_get" "$routemq_set" | sed 's/\*\*//g'
  ratio_rows "callers' io_context" "$shared_get" "$shared_set" | sed 's/\*\*//g'

  write_redis_section "$work_dir/redis_section.md"
  splice_section "$work_dir/redis_section.md" redis
  log "wrote the Redis section of $doc"
}

bench_middleware_part() {
  log "bench_middleware --seconds $seconds --concurrency 1000"
  "$build_dir/bin/bench_middleware" --port "$redis_port" --seconds "$seconds" --connections "$connections" \
    --concurrency 1000 | tee "$work_dir/bench_middleware.txt"
  write_middleware_section "$work_dir/middleware_section.md"
  splice_section "$work_dir/middleware_section.md" middleware
  log "wrote the middleware section of $doc"
}

bench_routing_part() {
  routing_seconds=${BENCH_ROUTING_SECONDS:-1}
  log "bench_routing --seconds $routing_seconds"
  "$build_dir/bin/bench_routing" --seconds "$routing_seconds" | tee "$work_dir/bench_routing.txt"
  write_routing_section "$work_dir/routing_section.md"
  splice_section "$work_dir/routing_section.md" routing
  log "wrote the route-matching section of $doc"
}

bench_e2e_part() {
  run_e2e_benchmarks
  measure_service
  write_e2e_section "$work_dir/e2e_section.md"
  splice_section "$work_dir/e2e_section.md" e2e
  log "wrote the end-to-end section of $doc"
}

if wants redis; then bench_redis_part; fi
if wants middleware; then bench_middleware_part; fi
if wants routing; then bench_routing_part; fi
if wants e2e; then bench_e2e_part; fi
if wants acks; then bench_acks_part; fi
if wants tls; then bench_tls_part; fi
if wants failover; then bench_failover_part; fi
if wants cluster; then bench_cluster_part; fi
if wants latency; then bench_latency_part; fi
if wants crash; then bench_crash_part; fi
