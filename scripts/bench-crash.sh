# Sourced by bench.sh (section "crash"): what a SIGKILL of the service costs in readings, with a
# session that survives restarts. Uses bench.sh's build_dir, work_dir, redis_port, log, machine_line,
# splice_section and bench_mosquitto, bench-e2e.sh's write_service_config / start_service /
# stop_service (service_pid), and bench-latency.sh's mqtt_client_available.
#
# The service: build/bin/routemq, the example's telemetry route with rate_limit + dedupe on Redis
# (limits high enough that nothing is refused; dedupe as the example has it: a 1 h window, its
# default lease, replay: true, so a copy of a reading handled before a kill gets its ack again), MQTT 5 with a fixed client id, clean_start false, session_expiry 600, so the
# broker keeps its subscription and queues its readings while it is down.
# Load: BENCH_CRASH_DEVICES (default 8) `mosquitto_pub -q 1 -l` processes, one device each, each
# sending BENCH_CRASH_READINGS (default 1500) readings with unique msg_ids, paced at BENCH_CRASH_RATE
# (default 400) readings/s per device, so the kills land while readings still come in. A publisher
# that exits 0 had every reading accepted (PUBACK) by the broker.
# Runs, for each MQTT_CLIENT of BENCH_MQTT_CLIENTS (default "native paho") that the binary has: one
# SIGKILL at half the load, and three at a quarter, half and three quarters; restarted each time (the
# next kill waits until the restarted service is ready). Then, bounded by BENCH_CRASH_DEADLINE
# (default 60 s), until the counts have not changed for BENCH_CRASH_SETTLE (default 3) s.
# Counted per device: handled = the example's routemq:device:{id}:telemetry_count; distinct = readings
# that were stored at least once, from `redis-cli monitor` (every LPUSH of a reading's value to
# device:{id}:recent, which keeps only the last 100 itself): the service's own counters are what is
# under test, so they are not the witness. lost = sent - distinct, twice = handled - distinct.
# answered: readings whose ack (devices/{id}/ack, with their msg_id) reached a separate mosquitto_sub
# subscribed before the load; unanswered = sent - answered.
# Goal: 0 lost, 0 twice, 0 unanswered.

crash_devices=${BENCH_CRASH_DEVICES:-8}
crash_readings=${BENCH_CRASH_READINGS:-1500}
crash_rate=${BENCH_CRASH_RATE:-400}
crash_settle=${BENCH_CRASH_SETTLE:-3}
crash_deadline=${BENCH_CRASH_DEADLINE:-60}
crash_clients=(${BENCH_MQTT_CLIENTS:-native paho})
crash_runs=("0.5" "0.25 0.5 0.75")  # kill moments, as fractions of the load's planned duration

crash_monitor_pid=""
crash_acks_pid=""

# Also called by bench.sh's cleanup.
stop_crash_monitor() {
  local pid
  for pid in "$crash_monitor_pid" "$crash_acks_pid"; do
    [[ -n "$pid" ]] || continue
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  crash_monitor_pid="" crash_acks_pid=""
}

# The service config: bench-e2e.sh's, with a session kept by the broker. The client id and the
# shared-subscription group come from the environment per run (start_crash_service): a session left
# by an earlier run must not be a member of this run's group, or the broker would hand it half the
# readings to queue for a client that never returns.
write_crash_config() {
  write_service_config
  sed -e 's/^mqtt: .*/mqtt: {broker: 127.0.0.1, version: 5, clean_start: false, session_expiry: 600}/' \
    -e 's/window: 3600}/window: 3600, replay: true}/' "$work_dir/service.yaml" >"$work_dir/crash.yaml"
  grep -q 'replay: true' "$work_dir/crash.yaml"
}

# crash_total_count: the sum of every device's telemetry_count.
crash_total_count() {
  local d keys=()
  for ((d = 1; d <= crash_devices; d++)); do keys+=("routemq:device:d$d:telemetry_count"); done
  redis-cli -h 127.0.0.1 -p "$redis_port" mget "${keys[@]}" | awk '{ s += $1 } END { print s + 0 }'
}

# start_crash_load RUN: the publishers (crash_loaders), each a paced generator piped into
# mosquitto_pub -l. Their exit statuses go to crash_load_<d>.status.
start_crash_load() {
  local run=$1 d
  crash_loaders=()
  for ((d = 1; d <= crash_devices; d++)); do
    (
      # 20 slices a second: the pace is coarse but even, and awk's relative sleeps drift only by
      # the time one slice takes to print.
      awk -v run="$run" -v d="$d" -v n="$crash_readings" -v per_slice=$((crash_rate / 20 > 0 ? crash_rate / 20 : 1)) 'BEGIN {
        for (i = 1; i <= n; i++) {
          printf "{\"msg_id\":\"%s-d%d-%d\",\"value\":%d}\n", run, d, i, i
          if (i % per_slice == 0) { fflush(); system("sleep 0.05") }
        } }' \
        | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "devices/d$d/telemetry" -l
      echo "${PIPESTATUS[1]}" >"$work_dir/crash_load_$d.status"
    ) &
    crash_loaders+=($!)
  done
}

# crash_run CLIENT NAME "FRACTIONS": one run; appends RESULT lines (one per device and a total) to crash.txt.
crash_run() {
  local client=$1 name=$2 fractions=$3
  local run="$name-$$-$RANDOM" planned_ms start_ms f at_ms now_ms kills=0
  local id="routemq-crash-$run" group="crash${run//-/}"
  planned_ms=$((crash_readings * 1000 / crash_rate))
  redis-cli -h 127.0.0.1 -p "$redis_port" flushall >/dev/null
  redis-cli -h 127.0.0.1 -p "$redis_port" monitor >"$work_dir/crash_monitor.txt" &
  crash_monitor_pid=$!
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t 'devices/+/ack' -F '%t %p' >"$work_dir/crash_acks.txt" 2>/dev/null &
  crash_acks_pid=$!
  export MQTT_CLIENT=$client MQTT_CLIENT_ID=$id MQTT_GROUP_NAME=$group
  start_service "$work_dir/crash.yaml"
  log "crash: $client, $name: $crash_devices x $crash_readings readings over ~$((planned_ms / 1000)) s, SIGKILL at ${fractions// /, } of it"
  start_ms=$(($(date +%s%N) / 1000000))
  start_crash_load "$run"
  for f in $fractions; do
    # Integer arithmetic in bash: mawk's printf %d clamps epoch milliseconds to 2^31 - 1.
    at_ms=$((start_ms + planned_ms * $(awk -v f="$f" 'BEGIN { printf "%d", f * 1000 }') / 1000))
    now_ms=$(($(date +%s%N) / 1000000))
    if ((at_ms > now_ms)); then sleep "$(awk -v d=$((at_ms - now_ms)) 'BEGIN { printf "%.3f", d / 1000 }')"; fi
    log "crash: SIGKILL at $(($(date +%s%N) / 1000000 - start_ms)) ms (count so far $(crash_total_count))"
    kill -9 "$service_pid"
    wait "$service_pid" 2>/dev/null || true
    service_pid=""
    kills=$((kills + 1))
    start_service "$work_dir/crash.yaml"
    log "crash: restarted, ready after $ready_ms ms"
  done
  wait "${crash_loaders[@]}" || true
  local failed_loads=0 d
  for ((d = 1; d <= crash_devices; d++)); do
    [[ "$(cat "$work_dir/crash_load_$d.status" 2>/dev/null)" == 0 ]] || failed_loads=$((failed_loads + 1))
  done
  log "crash: load done after $(($(date +%s%N) / 1000000 - start_ms)) ms; publishers that failed: $failed_loads"

  # Until the counts stop changing (bounded): the restarted service works off what the broker kept.
  local last=-1 stable_since deadline count
  deadline=$(($(date +%s) + crash_deadline))
  stable_since=$(date +%s%N)
  while (($(date +%s) < deadline)); do
    count=$(crash_total_count)
    if [[ "$count" != "$last" ]]; then
      last=$count
      stable_since=$(date +%s%N)
    elif (($(date +%s%N) - stable_since >= crash_settle * 1000000000)); then
      break
    fi
    sleep 0.25
  done
  local settled=yes
  (($(date +%s) < deadline)) || settled="no (still changing at the ${crash_deadline} s deadline)"
  stop_service
  unset MQTT_CLIENT MQTT_CLIENT_ID MQTT_GROUP_NAME
  # End the kept session (clean start, expiry 0), so it queues nothing for later sections.
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -V mqttv5 -i "$id" -t bench/crash/none -E >/dev/null 2>&1 || true
  sleep 0.3  # the last commands reach MONITOR's output
  stop_crash_monitor

  # From MONITOR: per key, LPUSHes and distinct values (a reading's value is its sequence number,
  # unique per device). Lines look like: 1700000000.1 [0 127.0.0.1:5555] "LPUSH" "routemq:device:d1:recent" "17.0"
  awk '$4 == "\"LPUSH\"" || $4 == "\"lpush\"" { k = $5; gsub(/"/, "", k); n[k]++; if (!seen[k, $6]++) d[k]++ }
       END { for (k in n) print k, n[k], d[k] }' "$work_dir/crash_monitor.txt" >"$work_dir/crash_pushes.txt"
  # Acks per device: distinct msg_ids. Lines look like: devices/d1/ack {"count":3,"msg_id":"once-123-d1-3"}
  awk '{ split($1, t, "/"); if (match($2, /"msg_id":"[^"]*"/) && !seen[t[2], substr($2, RSTART, RLENGTH)]++) a[t[2]]++ }
       END { for (d in a) print d, a[d] }' "$work_dir/crash_acks.txt" >"$work_dir/crash_answered.txt"
  local sent handled pushes distinct answered t_sent=0 t_handled=0 t_pushes=0 t_distinct=0 t_answered=0
  for ((d = 1; d <= crash_devices; d++)); do
    sent=$crash_readings
    [[ "$(cat "$work_dir/crash_load_$d.status" 2>/dev/null)" == 0 ]] || sent=0  # unknown: the broker did not take them all
    handled=$(redis-cli -h 127.0.0.1 -p "$redis_port" get "routemq:device:d$d:telemetry_count")
    handled=${handled:-0}
    read -r pushes distinct <<<"$(awk -v k="routemq:device:d$d:recent" '$1 == k { print $2, $3 }' "$work_dir/crash_pushes.txt")"
    pushes=${pushes:-0} distinct=${distinct:-0}
    answered=$(awk -v d="d$d" '$1 == d { print $2 }' "$work_dir/crash_answered.txt")
    answered=${answered:-0}
    echo "RESULT client=$client run=$name device=d$d sent=$sent handled=$handled pushes=$pushes distinct=$distinct lost=$((sent - distinct)) twice=$((handled - distinct)) answered=$answered" >>"$work_dir/crash.txt"
    t_sent=$((t_sent + sent)) t_handled=$((t_handled + handled)) t_pushes=$((t_pushes + pushes)) t_distinct=$((t_distinct + distinct)) t_answered=$((t_answered + answered))
  done
  echo "RESULT client=$client run=$name device=all kills=$kills sent=$t_sent handled=$t_handled pushes=$t_pushes distinct=$t_distinct lost=$((t_sent - t_distinct)) twice=$((t_handled - t_distinct)) answered=$t_answered unanswered=$((t_sent - t_answered)) failed_loads=$failed_loads settled=${settled// /_}" \
    | tee -a "$work_dir/crash.txt" >&2
}

crash_result() { line_field "$work_dir/crash.txt" RESULT "$3" "client=$1" "run=$2" device=all; }

write_crash_section() {
  local out=$1 client name
  {
    echo "<!-- crash:begin (generated by scripts/bench.sh; edits here are overwritten) -->"
    echo "## SIGKILL under load"
    echo
    echo "Command: \`BENCH_ONLY=crash ./scripts/bench.sh\` (BENCH_CRASH_DEVICES=$crash_devices, BENCH_CRASH_READINGS=$crash_readings, BENCH_CRASH_RATE=$crash_rate, BENCH_MQTT_CLIENTS=\"${crash_clients[*]}\"), run $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(machine_line)."
    echo
    echo "\`build/bin/routemq\`, the example's telemetry route with rate_limit + dedupe on Redis (limits high enough that nothing is refused; dedupe as the example configures it: 1 h window, default lease, replay), MQTT 5 with a fixed client id, \`clean_start: false\`, \`session_expiry: 600\`, through mosquitto $(mosquitto -h 2>/dev/null | awk 'NR == 1 { print $3 }'). Load: $crash_devices \`mosquitto_pub -q 1 -l\` processes, one device each, $crash_readings readings each with unique msg_ids at ~$crash_rate/s per device; every publisher exited 0 unless the table says otherwise (each reading accepted by the broker). The service is killed with SIGKILL mid-load (once; then three times, at a quarter, half and three quarters of the load), restarted at once each time, then given until its counts stop changing for $crash_settle s (at most $crash_deadline s). handled: the sum of \`routemq:device:{id}:telemetry_count\`; distinct: readings stored at least once, counted from \`redis-cli monitor\` (the LPUSH of each reading's value, unique per device); lost = sent - distinct; twice = handled - distinct; answered: readings whose ack (with their msg_id) reached a separate \`mosquitto_sub\` subscribed before the load (dedupe's \`replay: true\` answers a copy of a reading handled before a kill again); unanswered = sent - answered."
    echo
    for client in "${crash_clients[@]}"; do
      grep -q "client=$client " "$work_dir/crash.txt" || echo "MQTT_CLIENT=$client: not in this build of routemq (the variable is ignored; Paho is what runs), not measured."
    done
    echo
    echo "| MQTT_CLIENT | SIGKILLs | sent | handled | distinct | lost | twice | unanswered | publishers failed | settled | goal: 0 lost, 0 twice, 0 unanswered |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for client in "${crash_clients[@]}"; do
      for name in once thrice; do
        grep -q "client=$client run=$name " "$work_dir/crash.txt" || continue
        local lost twice unanswered
        lost=$(crash_result "$client" "$name" lost)
        twice=$(crash_result "$client" "$name" twice)
        unanswered=$(crash_result "$client" "$name" unanswered)
        echo "| $client | $(crash_result "$client" "$name" kills) | $(crash_result "$client" "$name" sent) | $(crash_result "$client" "$name" handled) | $(crash_result "$client" "$name" distinct) | $lost | $twice | $unanswered | $(crash_result "$client" "$name" failed_loads) | $(crash_result "$client" "$name" settled | tr _ ' ') | $([[ "$lost" == 0 && "$twice" == 0 && "$unanswered" == 0 ]] && echo met || echo "**missed**") |"
      done
    done
    echo
    echo "Per device (lost / twice):"
    echo
    for client in "${crash_clients[@]}"; do
      for name in once thrice; do
        grep -q "client=$client run=$name " "$work_dir/crash.txt" || continue
        echo "- $client, $name: $(awk -v c="client=$client" -v r="run=$name" '$2 == c && $3 == r && $4 != "device=all" {
          split($4, dv, "="); split($9, l, "="); split($10, t, "="); printf "%s%s %s/%s", sep, dv[2], l[2], t[2]; sep = ", " }' "$work_dir/crash.txt")"
      done
    done
    echo
    echo "<!-- crash:end -->"
  } >"$out"
}

run_crash_benchmarks() {
  bench_mosquitto
  write_crash_config
  : >"$work_dir/crash.txt"
  local client i names=(once thrice)
  for client in "${crash_clients[@]}"; do
    if ! mqtt_client_available "$client"; then
      log "crash: MQTT_CLIENT=$client is not in this build of routemq; skipped"
      continue
    fi
    for i in "${!crash_runs[@]}"; do crash_run "$client" "${names[$i]}" "${crash_runs[$i]}"; done
  done
}

bench_crash_part() {
  run_crash_benchmarks
  write_crash_section "$work_dir/crash_section.md"
  splice_section "$work_dir/crash_section.md" crash
  log "wrote the crash section of $doc"
}
