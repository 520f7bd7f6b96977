# Sourced by bench.sh: messages end to end through a real mosquitto, and the real service's startup
# time and memory. Uses bench.sh's build_dir, work_dir, redis_port, line_field, ratio, verdict, plot, splice_section,
# machine_before and local-servers.sh's start_local_mosquitto / free_port.

e2e_messages=${BENCH_E2E_MESSAGES:-100000}
goal_e2e_pct=60     # (c) routemq + rate_limit + dedupe vs (a) the bare subscriber, QoS 0
goal_e2e_p99_ms=5   # (c)'s p99 at half of (a)'s rate
e2e_receivers=(bare routemq routemq_redis)

# run_e2e OUT ARGS...: one bench_e2e run appended to OUT. Redis is emptied first: dedupe must see
# every msg_id as new, or the run would measure duplicates being skipped.
run_e2e() {
  local out=$1
  shift
  redis-cli -h 127.0.0.1 -p "$redis_port" flushall >/dev/null
  log "bench_e2e $*"
  "$build_dir/bin/bench_e2e" --broker-port "$MQTT_PORT" --redis-port "$redis_port" --messages "$e2e_messages" "$@" \
    | tee -a "$out"
}

# e2e_result FILE FIELD NAME: one field of bench_e2e's "RESULT name=NAME c=1 ..." line in FILE.
e2e_result() { line_field "$1" RESULT "$2" "name=$3"; }

run_e2e_benchmarks() {
  bench_mosquitto
  local qos receiver half
  for qos in 0 1; do
    for receiver in "${e2e_receivers[@]}"; do run_e2e "$work_dir/e2e_full.txt" --receiver "$receiver" --qos "$qos"; done
  done
  for qos in 0 1; do
    half=$(awk -v ops="$(e2e_result "$work_dir/e2e_full.txt" ops "bare_qos$qos")" 'BEGIN { printf "%.0f", ops / 2 }')
    echo "$half" >"$work_dir/half_rate_qos$qos"
    for receiver in "${e2e_receivers[@]}"; do
      run_e2e "$work_dir/e2e_half.txt" --receiver "$receiver" --qos "$qos" --rate "$half"
    done
  done
}

# ---- the real service: startup and memory

service_pid=""

stop_service() {
  [[ -n "$service_pid" ]] || return 0
  kill "$service_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$service_pid" 2>/dev/null || true
  wait "$service_pid" 2>/dev/null || true
  service_pid=""
}

# The example service's telemetry route with rate_limit + dedupe, limits high enough that nothing is
# refused: the load (c) of the end-to-end table, in the real binary.
write_service_config() {
  cat >"$work_dir/service.yaml" <<'EOF'
app: {name: routemq-bench, workers: 2, max_in_flight: 1000, log_level: warn}
mqtt: {broker: 127.0.0.1, version: 5}
metrics: {enabled: true, host: 127.0.0.1}
redis: {enabled: true, host: 127.0.0.1, key_prefix: "routemq:"}
routes:
  telemetry:
    middleware:
      - rate_limit: {key: "{device_id}", rate: 1000000, period: 1, burst: 1000000}
      - dedupe: {id: "{device_id}:{payload.msg_id}", window: 3600}
EOF
}

# start_service [CONFIG]: starts build/bin/routemq (service_pid) with CONFIG (default: the one
# write_service_config wrote) and sets ready_ms, the milliseconds until /ready answered 200.
start_service() {
  local config=${1:-$work_dir/service.yaml}
  metrics_port=$(free_port $((19100 + RANDOM % 1000)))
  local start_ns now_ns
  start_ns=$(date +%s%N)
  MQTT_PORT=$MQTT_PORT REDIS_PORT=$redis_port METRICS_PORT=$metrics_port \
    "$build_dir/bin/routemq" run --config "$config" >>"$work_dir/service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 3000); do  # up to ~30 s
    if [[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/ready")" == "200" ]]; then
      now_ns=$(date +%s%N)
      ready_ms=$(((now_ns - start_ns) / 1000000))
      return 0
    fi
    kill -0 "$service_pid" 2>/dev/null || break
    sleep 0.01
  done
  echo "bench: routemq did not become ready; its log:" >&2
  tail -n 20 "$work_dir/service.log" >&2
  exit 1
}

# The peer of startup: a bare client's connect + publish + disconnect to the same broker, as a process.
bare_connect_ms() {
  local start_ns end_ns
  start_ns=$(date +%s%N)
  mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t bench/startup -m x
  end_ns=$(date +%s%N)
  echo $(((end_ns - start_ns) / 1000000))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

proc_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

metric() {
  curl -s --max-time 5 "http://127.0.0.1:$metrics_port/metrics" | awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $2 } END { printf "%.0f", sum }'
}

measure_service() {
  write_service_config
  local runs=() peer_runs=() i
  for i in 1 2 3; do
    start_service
    runs+=("$ready_ms")
    peer_runs+=("$(bare_connect_ms)")
    if [[ $i -lt 3 ]]; then stop_service; fi
  done
  startup_ms=$(printf '%s\n' "${runs[@]}" | median)
  bare_ms=$(printf '%s\n' "${peer_runs[@]}" | median)
  log "startup to /ready: ${runs[*]} ms (median $startup_ms); mosquitto_pub connect+publish: ${peer_runs[*]} ms"

  redis-cli -h 127.0.0.1 -p "$redis_port" flushall >/dev/null
  idle_rss_kb=$(proc_kb "$service_pid" VmRSS)
  # Sample the in-flight gauge while bench_e2e drives the service (load c, QoS 1, as fast as it goes).
  (
    peak=0
    while kill -0 "$service_pid" 2>/dev/null && [[ ! -f "$work_dir/load_done" ]]; do
      now=$(metric routemq_messages_in_flight)
      ((now > peak)) && peak=$now && echo "$peak" >"$work_dir/peak_in_flight"
      sleep 0.02
    done
  ) &
  local sampler=$!
  echo 0 >"$work_dir/peak_in_flight"
  "$build_dir/bin/bench_e2e" --broker-port "$MQTT_PORT" --receiver none --qos 1 --messages "$e2e_messages" \
    | tee "$work_dir/service_load.txt"
  for _ in $(seq 300); do  # until the service has handled everything (bounded: 30 s)
    [[ "$(metric routemq_messages_handled_total)" -ge "$e2e_messages" ]] && break
    sleep 0.1
  done
  touch "$work_dir/load_done"
  wait "$sampler" || true
  handled=$(metric routemq_messages_handled_total)
  peak_in_flight=$(cat "$work_dir/peak_in_flight")
  loaded_hwm_kb=$(proc_kb "$service_pid" VmHWM)
  loaded_rss_kb=$(proc_kb "$service_pid" VmRSS)
  stop_service
  bytes_per_in_flight=$(awk -v hwm="$loaded_hwm_kb" -v idle="$idle_rss_kb" -v n="$peak_in_flight" \
    'BEGIN { printf "%.0f", (n > 0 ? (hwm - idle) * 1024 / n : 0) }')
  log "service: idle RSS ${idle_rss_kb} kB, peak ${loaded_hwm_kb} kB under load, peak in flight $peak_in_flight, handled $handled"
}

# ---- the section

plot_e2e() {
  local receiver
  : >"$work_dir/e2e_plot.dat"
  for receiver in "${e2e_receivers[@]}"; do
    echo "$receiver $(e2e_result "$work_dir/e2e_full.txt" ops "${receiver}_qos0") $(e2e_result "$work_dir/e2e_full.txt" ops "${receiver}_qos1")" >>"$work_dir/e2e_plot.dat"
  done
  plot e2e_throughput.png "end-to-end throughput" <<EOF
set title "Messages per second end to end through mosquitto (same run)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "messages/s received"
set yrange [0:*]
set grid ytics
plot "$work_dir/e2e_plot.dat" using 2:xtic(1) title "QoS 0", "" using 3 title "QoS 1"
EOF
}

e2e_row() {
  local file=$1 name=$2 label=$3 limit_ops=$4
  local ops
  ops=$(e2e_result "$file" ops "$name")
  echo "| $label | $ops | $(awk -v a="$ops" -v b="$limit_ops" 'BEGIN { printf "%.0f%%", (b > 0 ? a / b * 100 : 0) }') | $(e2e_result "$file" p50_us "$name") | $(e2e_result "$file" p99_us "$name") | $(e2e_result "$file" errors "$name") |"
}

write_e2e_section() {
  local out=$1 full=$work_dir/e2e_full.txt half=$work_dir/e2e_half.txt
  local labels=("(a) bare Paho subscriber (limit)" "(b) routemq, telemetry route" "(c) routemq + rate_limit + dedupe on Redis")
  local pct_c p99_c_ms i qos
  pct_c=$(awk -v a="$(e2e_result "$full" ops routemq_redis_qos0)" -v b="$(e2e_result "$full" ops bare_qos0)" 'BEGIN { printf "%.0f", a / b * 100 }')
  {
    echo "<!-- e2e:begin (generated by scripts/bench.sh; edits here are overwritten) -->"
    echo "## End to end"
    echo
    echo "Command: \`./scripts/bench.sh\` (\`build/bin/bench_e2e --messages $e2e_messages\`), run $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $machine_before. Load average: $(grep '^LOADAVG' "$full" | head -n 1 | cut -d' ' -f2-) at the first run, $(grep '^LOADAVG' "$half" | tail -n 1 | cut -d' ' -f2-) at the last."
    echo
    echo "One Paho MQTT 5 publisher sends $e2e_messages messages of 64 bytes to \`devices/d<k>/telemetry\` (1000 devices) through mosquitto $(mosquitto -h 2>/dev/null | grep -o 'version [0-9.]*' | head -n 1 | cut -d' ' -f2) (config/mosquitto.conf on a loopback port), at most 1000 publishes outstanding; receivers in the same process, latency from before the publish to the end of the handler (routemq: after the middleware chain, the example handler's four Redis commands and its ack). Publisher, broker, Redis and receiver share the machine's $(nproc) cores."
    echo
    for qos in 0 1; do
      local limit
      limit=$(e2e_result "$full" ops "bare_qos$qos")
      echo "**QoS $qos, as fast as the publisher goes** (latency here is mostly queueing behind the publisher)"
      echo
      echo "| receiver | messages/s | vs (a) | p50 µs | p99 µs | lost |"
      echo "|---|---|---|---|---|---|"
      for i in 0 1 2; do e2e_row "$full" "${e2e_receivers[$i]}_qos$qos" "${labels[$i]}" "$limit"; done
      echo
      echo "**QoS $qos at half of (a)'s rate** ($(cat "$work_dir/half_rate_qos$qos") messages/s, paced)"
      echo
      echo "| receiver | messages/s | vs (a) | p50 µs | p99 µs | lost |"
      echo "|---|---|---|---|---|---|"
      for i in 0 1 2; do e2e_row "$half" "${e2e_receivers[$i]}_qos$qos" "${labels[$i]}" "$(e2e_result "$half" ops "bare_qos$qos")"; done
      echo
    done
    echo "| goal | measured | verdict |"
    echo "|---|---|---|"
    echo "| (c) >= ${goal_e2e_pct}% of (a)'s rate at QoS 0 | ${pct_c}% | $(verdict "$pct_c" "$goal_e2e_pct" "%") |"
    for qos in 0 1; do
      p99_c_ms=$(awk -v us="$(e2e_result "$half" p99_us "routemq_redis_qos$qos")" 'BEGIN { printf "%.2f", us / 1000 }')
      echo "| (c) p99 <= ${goal_e2e_p99_ms} ms at half of (a)'s rate, QoS $qos | ${p99_c_ms} ms | $(awk -v p="$p99_c_ms" -v g="$goal_e2e_p99_ms" 'BEGIN { if (p <= g) printf "met (%g ms <= %g ms)", p, g; else printf "**missed**: %g ms vs <= %g ms (%.0f%% over)", p, g, (p / g - 1) * 100 }') |"
    done
    echo
    plot_e2e
    echo
    echo "## The service: startup and memory"
    echo
    echo "The real binary (\`build/bin/routemq run\`, the telemetry route with rate_limit + dedupe on the same redis-server, 2 workers, max_in_flight 1000), median of 3 starts."
    echo
    echo "| measurement | value | vs |"
    echo "|---|---|---|"
    echo "| startup to /ready (process start, Redis connected, MQTT subscribed) | $startup_ms ms | $(ratio "$startup_ms" "$bare_ms")x a bare \`mosquitto_pub\` process connecting and publishing once ($bare_ms ms) |"
    echo "| RSS idle, ready | $((idle_rss_kb / 1024)) MiB ($idle_rss_kb kB) | |"
    echo "| peak RSS under load (c), $e2e_messages QoS 1 messages as fast as possible | $((loaded_hwm_kb / 1024)) MiB ($loaded_hwm_kb kB) | $(ratio "$loaded_hwm_kb" "$idle_rss_kb")x idle; RSS after the load $((loaded_rss_kb / 1024)) MiB |"
    echo "| peak messages in flight (sampled from /metrics every 20 ms) | $peak_in_flight | of max_in_flight 1000 |"
    echo "| RSS growth per in-flight message (peak - idle) / peak in flight | $bytes_per_in_flight bytes | an upper bound: it includes Paho's and the Redis connections' buffers |"
    echo
    echo "<!-- e2e:end -->"
  } >"$out"
}
