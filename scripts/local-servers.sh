# Sourced by run.sh and bench.sh: starts a private mosquitto and redis-server on loopback and stops them on exit.
# Nothing here touches servers it did not start.

_local_server_pids=()
_local_server_dir=$(mktemp -d /tmp/routemq-local.XXXXXX)

stop_local_servers() {
  for pid in "${_local_server_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${_local_server_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$_local_server_dir"
}

# free_port PREFERRED: the first port from PREFERRED on where nothing listens on loopback.
free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

# wait_for_port PORT NAME: up to 10 s for something to accept connections on 127.0.0.1:PORT.
wait_for_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "run: $2 did not start on port $1; see $_local_server_dir" >&2
  return 1
}

# start_local_mosquitto [EXTRA_CONFIG]: config/mosquitto.conf on a free loopback port, plus EXTRA_CONFIG
# lines; its log is $local_mosquitto_log.
start_local_mosquitto() {
  local port; port=$(free_port 1883)
  sed -e "s/^listener .*/listener $port 127.0.0.1/" config/mosquitto.conf >"$_local_server_dir/mosquitto.conf"
  if [[ -n "${1:-}" ]]; then echo "$1" >>"$_local_server_dir/mosquitto.conf"; fi
  local_mosquitto_log=$_local_server_dir/mosquitto.log
  mosquitto -c "$_local_server_dir/mosquitto.conf" >"$local_mosquitto_log" 2>&1 &
  _local_server_pids+=($!)
  wait_for_port "$port" mosquitto
  export MQTT_BROKER=127.0.0.1 MQTT_PORT=$port
  echo "run: started mosquitto on 127.0.0.1:$port (pid $!)"
}

# start_local_redis [PREFERRED_PORT]: redis-server on the first free loopback port from PREFERRED_PORT
# (default 6379), answering PING within 10 s. A port taken between the check and the bind makes
# redis-server exit: the next port is tried, a few times.
start_local_redis() {
  local port=${1:-6379} attempt pid
  for attempt in 1 2 3 4 5; do
    port=$(free_port "$port")
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize no \
      --dir "$_local_server_dir" >"$_local_server_dir/redis.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == "PONG" ]]; then
        _local_server_pids+=("$pid")
        export REDIS_HOST=127.0.0.1 REDIS_PORT=$port ENABLE_REDIS=${ENABLE_REDIS:-true}
        echo "run: started redis-server $(redis-server --version | grep -o 'v=[^ ]*') on 127.0.0.1:$port (pid $pid)"
        return 0
      fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "run: redis-server did not start on port $port (attempt $attempt): $(tail -n 2 "$_local_server_dir/redis.log" | tr '\n' ' ')" >&2
    port=$((port + 1))
  done
  echo "run: cannot start redis-server; see $_local_server_dir" >&2
  return 1
}
