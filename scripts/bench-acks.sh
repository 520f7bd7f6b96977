# Sourced by bench.sh: acks that reach a separate client, the way a user sees the service. Uses
# bench.sh's build_dir, work_dir, redis_port, log, line_field, percent, verdict, splice_section and
# bench_mosquitto, and bench-e2e.sh's start_service / stop_service.
#
# Load: BENCH_ACK_PUBLISHERS (default 8) mosquitto_pub -l processes, one device each, publishing
# BENCH_ACK_MESSAGES (default 40000) telemetry readings with unique msg_ids at QoS 0 or 1 as fast as they
# go (Eclipse's C client: faster than any receiver here). A separate mosquitto_sub counts the acks that
# come back through the broker (QoS 1, as the example publishes them); the rate is acks / (last ack -
# first reading). Subjects, each round in turn, BENCH_ACK_ROUNDS (default 3) rounds:
#   echo      the peer: mosquitto_sub on the readings piped into mosquitto_pub -l publishing each as an
#             ack at QoS 1: the same MQTT work, nothing else
#   route     build/bin/routemq, the example's telemetry route (stores each reading in Redis), no middleware
#   route_mw  the same with rate_limit + dedupe on Redis (limits high enough that nothing is refused)
#   route_mw_replay  route_mw with dedupe's replay: true (answers kept with "done", the store's pipeline
#             run as one script keeping its replies in the marker): goal within noise of route_mw, judged
#             on the rounds' medians (one round moves by 15% or more here)
#   route_mw_paho  route_mw on Paho's client (mqtt.client: paho, acknowledging on arrival), beside it
#   route_mw_unordered  route_mw with the route unordered (not in the default list: it shows what the
#             per-device lanes cost when 8 devices send as fast as they can)
# BENCH_ACK_SUBJECTS (space-separated) picks subjects; the section is written for the default five.
# Each result also records the CPU the subject, redis-server and mosquitto spent per ack (from
# /proc/PID/stat between the first reading and the last ack), to tell a CPU limit from a latency one.
# Goals: route_mw >= 80% of echo and route >= 90%, with QoS 0 and with QoS 1 readings.

ack_messages=${BENCH_ACK_MESSAGES:-40000}
ack_publishers=${BENCH_ACK_PUBLISHERS:-8}
ack_rounds=${BENCH_ACK_ROUNDS:-3}
goal_ack_route_mw_pct=80
goal_ack_route_pct=90
goal_ack_replay_pct=90  # replay's cost: within this host's noise of route_mw
read -r -a ack_subjects <<<"${BENCH_ACK_SUBJECTS:-echo route route_mw route_mw_replay route_mw_paho}"

# The readings, one file per publisher: {"msg_id":"p<P>-<i>","value":<i>}.
write_ack_load() {
  local per=$((ack_messages / ack_publishers)) p
  for ((p = 1; p <= ack_publishers; p++)); do
    awk -v p="$p" -v n="$per" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"msg_id\":\"p%d-%d\",\"value\":%d}\n", p, i, i }' \
      >"$work_dir/ack_load_$p.txt"
  done
  ack_total=$((per * ack_publishers))
}

# route_mw runs bench-e2e.sh's service config (the telemetry route with rate_limit + dedupe); route
# the same without its routes: block.
write_ack_service_configs() {
  write_service_config
  cp "$work_dir/service.yaml" "$work_dir/acks_route_mw.yaml"
  sed 's/^  telemetry:$/  telemetry:\n    ordered: false/' "$work_dir/service.yaml" >"$work_dir/acks_route_mw_unordered.yaml"
  sed 's/window: 3600}/window: 3600, replay: true}/' "$work_dir/service.yaml" >"$work_dir/acks_route_mw_replay.yaml"
  grep -q 'replay: true' "$work_dir/acks_route_mw_replay.yaml"
  sed '/^routes:/,$d' "$work_dir/service.yaml" >"$work_dir/acks_route.yaml"
}

echo_pid=""

start_echo() {
  local qos=$1
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -q "$qos" -t 'devices/+/telemetry' \
    | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t devices/echo/ack -l &
  echo_pid=$!
}

stop_echo() {
  [[ -n "$echo_pid" ]] || return 0
  pkill -f "mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -q [01] -t devices/\+/telemetry" 2>/dev/null || true
  wait "$echo_pid" 2>/dev/null || true
  echo_pid=""
}

start_subject() {  # start_subject SUBJECT QOS
  case $1 in
    echo) start_echo "$2" ;;
    route | route_mw | route_mw_unordered | route_mw_replay) start_service "$work_dir/acks_$1.yaml" ;;
    route_mw_paho) MQTT_CLIENT=paho start_service "$work_dir/acks_route_mw.yaml" ;;
  esac
}

stop_subject() {
  case $1 in
    echo) stop_echo ;;
    *) stop_service ;;
  esac
}

counter_runs=0

# start_counter N: a separate mosquitto_sub (counter_pid) that exits after N acks (status 0), or after
# 300 s without them. Returns once the broker has logged its subscription. It prints nothing: a
# line per ack would make it the slowest process in the measurement.
start_counter() {
  local id="ack-counter-$$-$((counter_runs += 1))"
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -i "$id" -q 1 -t 'devices/+/ack' -C "$1" -W 300 >/dev/null 2>&1 &
  counter_pid=$!
  for _ in $(seq 200); do grep -q "$id 1 devices/+/ack" "$local_mosquitto_log" && return 0; sleep 0.05; done
  log "acks: the counter did not subscribe within 10 s"
  return 1
}

# warm_up: a reading every 0.1 s until one ack is back: the subject is subscribed and serving (up to ~20 s).
warm_up() {
  start_counter 1 || return 1
  for _ in $(seq 200); do
    kill -0 "$counter_pid" 2>/dev/null || break
    mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t devices/warmup/telemetry -m '{"msg_id":"warmup","value":0}'
    sleep 0.1
  done
  kill "$counter_pid" 2>/dev/null || true
  wait "$counter_pid"
}

# cpu_ticks PID: user + system clock ticks the process has used (0 when it is gone).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# subject_cpu_ticks SUBJECT: the ticks of the subject's processes (the echo is two).
subject_cpu_ticks() {
  if [[ $1 != echo ]]; then cpu_ticks "$service_pid"; return; fi
  local pid total=0
  for pid in $(pgrep -f "mosquitto_(sub|pub) -h 127.0.0.1 -p $MQTT_PORT -q [01] -t devices/"); do
    total=$((total + $(cpu_ticks "$pid")))
  done
  echo "$total"
}

# ack_cpu SUBJECT: "SUBJECT_TICKS REDIS_TICKS BROKER_TICKS" now.
ack_cpu() {
  echo "$(subject_cpu_ticks "$1") $(cpu_ticks "$(pgrep -f "redis-server 127.0.0.1:$redis_port")") $(cpu_ticks "$bench_mosquitto_pid")"
}

# us_per_ack TICKS_BEFORE TICKS_AFTER: microseconds of CPU per ack.
us_per_ack() { awk -v d=$(($2 - $1)) -v n="$ack_total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", d / hz * 1e6 / n }'; }

# ack_rate SUBJECT QOS: prints acks/s (0 when not every ack came back), then the CPU microseconds per ack
# of the subject, redis-server and mosquitto.
ack_rate() {
  local subject=$1 qos=$2 start_ns end_ns p status=0 loaders=()
  redis-cli -h 127.0.0.1 -p "$redis_port" flushall >/dev/null
  start_subject "$subject" "$qos"
  if ! warm_up; then
    log "acks: $subject never answered the warm-up reading"
    stop_subject "$subject"
    echo "0 - - -"
    return
  fi
  start_counter "$ack_total" || { stop_subject "$subject"; echo "0 - - -"; return; }
  start_ns=$(date +%s%N)
  local cpu_before cpu_after
  read -r -a cpu_before <<<"$(ack_cpu "$subject")"
  for ((p = 1; p <= ack_publishers; p++)); do
    mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q "$qos" -t "devices/d$p/telemetry" -l <"$work_dir/ack_load_$p.txt" &
    loaders+=($!)
  done
  wait "$counter_pid" || status=$?
  end_ns=$(date +%s%N)
  read -r -a cpu_after <<<"$(ack_cpu "$subject")"
  wait "${loaders[@]}" 2>/dev/null || true
  stop_subject "$subject"
  if [[ $status -ne 0 ]]; then
    log "acks: $subject at QoS $qos: not all $ack_total acks came back within 300 s"
    echo "0 - - -"
    return
  fi
  awk -v n="$ack_total" -v ns=$((end_ns - start_ns)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }'
  for p in 0 1 2; do echo -n " $(us_per_ack "${cpu_before[p]}" "${cpu_after[p]}")"; done
  echo
}

run_ack_benchmarks() {
  bench_mosquitto
  write_ack_load
  write_ack_service_configs
  local round qos subject rate subject_us redis_us broker_us
  : >"$work_dir/acks.txt"
  for ((round = 1; round <= ack_rounds; round++)); do
    for qos in 0 1; do
      for subject in "${ack_subjects[@]}"; do
        read -r rate subject_us redis_us broker_us <<<"$(ack_rate "$subject" "$qos")"
        log "acks: round $round, $subject, QoS $qos readings: $rate acks/s; CPU per ack: $subject_us us $subject, $redis_us us redis-server, $broker_us us mosquitto"
        echo "RESULT round=$round qos=$qos subject=$subject acks_per_s=$rate subject_us=$subject_us redis_us=$redis_us broker_us=$broker_us" >>"$work_dir/acks.txt"
      done
    done
  done
}

# ack_result ROUND QOS SUBJECT [FIELD]: acks_per_s, or FIELD.
ack_result() { line_field "$work_dir/acks.txt" RESULT "${4:-acks_per_s}" "round=$1" "qos=$2" "subject=$3"; }

# ack_rates QOS SUBJECT: the subject's acks/s of every round, one per line.
ack_rates() {
  local round
  for ((round = 1; round <= ack_rounds; round++)); do ack_result "$round" "$1" "$2"; done
}

# replay_verdict_line QOS: replay's cost judged on the rounds' medians, beside route_mw's own spread
# from round to round (one round of either moves by 15% or more here, so one round's ratio says little).
replay_verdict_line() {
  local qos=$1 mw_median replay_median mw_low mw_high
  mw_median=$(ack_rates "$qos" route_mw | median)
  replay_median=$(ack_rates "$qos" route_mw_replay | median)
  mw_low=$(ack_rates "$qos" route_mw | sort -n | head -1)
  mw_high=$(ack_rates "$qos" route_mw | sort -n | tail -1)
  echo "- QoS $qos readings, medians of the $ack_rounds rounds: route_mw_replay $replay_median acks/s, route_mw $mw_median (its rounds: $mw_low to $mw_high): route_mw_replay vs route_mw $(verdict "$(percent "$replay_median" "$mw_median")" "$goal_ack_replay_pct" "%")"
}

write_acks_section() {
  local out=$1 round qos echo_rate route_rate mw_rate replay_rate paho_rate
  {
    echo "<!-- acks:begin (generated by scripts/bench.sh; edits here are overwritten) -->"
    echo "## Acks delivered to a separate client"
    echo
    echo "$(machine_line). mosquitto $(mosquitto -h 2>/dev/null | awk 'NR == 1 { print $3 }') on a private loopback port; redis-server on its own. Load: $ack_publishers \`mosquitto_pub -l\` processes, $ack_total telemetry readings (unique msg_ids, one device per publisher), as fast as they go; a separate \`mosquitto_sub\` counts the acks (QoS 1) that come back through the broker. Rate: acks / (last ack - first reading). Peer: the bare C echo, \`mosquitto_sub\` on the readings piped into \`mosquitto_pub -l\` publishing each as an ack at QoS 1. route: \`build/bin/routemq\`, the example's telemetry route (each reading stored in Redis); route_mw: the same with rate_limit + dedupe on Redis, on the native client (the default: a reading acknowledged once handled); route_mw_replay: route_mw with dedupe's \`replay: true\` (each ack kept with \"done\" for duplicates, the store's pipeline run as one script keeping its replies); route_mw_paho: route_mw on Paho (acknowledging on arrival). Goals: route_mw >= ${goal_ack_route_mw_pct}% of echo, route >= ${goal_ack_route_pct}%, route_mw_replay >= ${goal_ack_replay_pct}% of route_mw (within this host's noise), on the rounds' medians."
    echo
    echo "| round | readings | echo acks/s | route acks/s | route_mw acks/s | route_mw_replay acks/s | route_mw_paho acks/s | route / echo | route_mw / echo | route_mw_replay / route_mw | route_mw_paho / echo |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for ((round = 1; round <= ack_rounds; round++)); do
      for qos in 0 1; do
        echo_rate=$(ack_result "$round" "$qos" echo)
        route_rate=$(ack_result "$round" "$qos" route)
        mw_rate=$(ack_result "$round" "$qos" route_mw)
        replay_rate=$(ack_result "$round" "$qos" route_mw_replay)
        paho_rate=$(ack_result "$round" "$qos" route_mw_paho)
        echo "| $round | QoS $qos | $echo_rate | $route_rate | $mw_rate | $replay_rate | $paho_rate | $(percent "$route_rate" "$echo_rate")% | $(percent "$mw_rate" "$echo_rate")% | $(percent "$replay_rate" "$mw_rate")% | $(percent "$paho_rate" "$echo_rate")% |"
      done
    done
    echo
    for qos in 0 1; do
      for ((round = 1; round <= ack_rounds; round++)); do
        echo_rate=$(ack_result "$round" "$qos" echo)
        route_rate=$(ack_result "$round" "$qos" route)
        mw_rate=$(ack_result "$round" "$qos" route_mw)
        replay_rate=$(ack_result "$round" "$qos" route_mw_replay)
        echo "- QoS $qos readings, round $round: route_mw $(verdict "$(percent "$mw_rate" "$echo_rate")" "$goal_ack_route_mw_pct" "%"); route $(verdict "$(percent "$route_rate" "$echo_rate")" "$goal_ack_route_pct" "%")"
      done
      replay_verdict_line "$qos"
    done
    echo
    echo "CPU per ack in microseconds (user + system, from the first reading to the last ack): the subject / redis-server / mosquitto. The machine has $(nproc) cores for all of them, the loaders and the counter."
    echo
    echo "| round | readings | $(printf '%s | ' "${ack_subjects[@]}")"
    echo "|---|---|$(printf -- '---|%.0s' "${ack_subjects[@]}")"
    for ((round = 1; round <= ack_rounds; round++)); do
      for qos in 0 1; do
        echo -n "| $round | QoS $qos |"
        for subject in "${ack_subjects[@]}"; do
          echo -n " $(ack_result "$round" "$qos" "$subject" subject_us) / $(ack_result "$round" "$qos" "$subject" redis_us) / $(ack_result "$round" "$qos" "$subject" broker_us) |"
        done
        echo
      done
    done
    echo "<!-- acks:end -->"
  } >"$out"
}

bench_acks_part() {
  run_ack_benchmarks
  write_acks_section "$work_dir/acks_section.md"
  splice_section "$work_dir/acks_section.md" acks
  log "wrote the acks section of $doc"
}
