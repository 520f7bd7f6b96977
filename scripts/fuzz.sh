#!/usr/bin/env bash
# Fuzzes a decoder with libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, built with
# Debian's clang++ straight from the sources (no CMake). Runs FUZZ_SECONDS (default 60) and ends with
# the executions and the findings (crash, leak, timeout and out-of-memory inputs, kept in
# $FUZZ_DIR/findings). Targets:
#   mqtt    the MQTT packet reader and encoder (tests/fuzz/mqtt_packet_reader_fuzz.cpp)
#   replay  what dedupe's replay reads back from Redis: kept answers, kept replies, our own encoded
#           commands (tests/fuzz/replay_records_fuzz.cpp)
#
#   FUZZ_SECONDS=600 scripts/fuzz.sh mqtt
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-mqtt}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_DIR=${FUZZ_DIR:-/tmp/routemq-fuzz-$target}
CXX=${CXX_FUZZ:-clang++}
mkdir -p "$FUZZ_DIR/corpus" "$FUZZ_DIR/findings"

if ! "$CXX" --version >/dev/null 2>&1; then
  echo "fuzz: $CXX not found (apt-get install -y clang libclang-rt-14-dev)" >&2
  exit 2
fi

seed() { printf "$2" >"$FUZZ_DIR/corpus/seed-$1"; }
libraries=()
case $target in
  mqtt)
    sources=(core/mqtt/protocol/encoder.cpp core/mqtt/protocol/packet.cpp core/mqtt/protocol/packet_reader.cpp
             core/mqtt/protocol/property_rules.cpp core/mqtt/protocol/reason_code.cpp core/mqtt/protocol/utf8.cpp
             tests/fuzz/mqtt_packet_reader_fuzz.cpp)
    # A few seeds: a limits byte and a split seed, then packets of each kind (the fuzzer finds the rest).
    seed connect5 '\x03\x01\x10\x16\x00\x04MQTT\x05\x02\x00\x1e\x08\x11\x00\x00\x00\x3c\x21\x00\x0a\x00\x01c'
    seed connect3 '\x03\x02\x10\x1a\x00\x04MQTT\x04\xee\x00\x3c\x00\x02c1\x00\x01w\x00\x01x\x00\x01u\x00\x01p'
    seed publish5 '\x03\x03\x30\x14\x00\x01t\x0f\x0b\x01\x0b\xac\x02\x23\x00\x01\x26\x00\x01k\x00\x01vp\x40\x02\x00\x07'
    seed publish3 '\x01\x04\x3b\x09\x00\x03a/b\x00\x0ahi\x62\x02\x00\x07\xd0\x00'
    seed subscribe '\x03\x05\x82\x09\x00\x02\x02\x0b\x05\x00\x01a\x2d\x90\x05\x00\x02\x00\x01\xa2'
    seed subscribe3 '\x03\x09\x82\x0c\x00\x01\x00\x03a/#\x01\x00\x01b\x02\x90\x04\x00\x01\x01\x80\xa2\x05\x00\x03\x00\x01a\xb0\x02\x00\x03'
    seed connect5will '\x03\x0a\x10\x1c\x00\x04MQTT\x05\x54\x00\x00\x00\x00\x00\x05\x18\x00\x00\x00\x05\x00\x01t\x00\x00\x00\x02pw'
    seed unsubscribe '\x03\x06\xa2\x06\x00\x03\x00\x00\x01a\xb0\x04\x00\x03\x00\x11\xe0\x01\x04'
    seed connack '\x03\x07\x20\x0b\x00\x00\x08\x12\x00\x02ab\x22\x00\x05\xf0\x06\x18\x04\x15\x00\x01m'
    seed oversized '\x01\x08\x32\x50\x00\x03big\x00\x09AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x40\x02\x00\x09'
    ;;
  replay)
    sources=(core/handling/answers.cpp plugins/redis/protocol/kept_replies.cpp plugins/redis/protocol/reply.cpp
             tests/fuzz/replay_records_fuzz.cpp)
    libraries=(-lfmt)
    # The first byte picks the decoder: 0 answers, 1 kept replies, 2 commands.
    seed answers '\x00\x01\x00\x00\x00\x01\x0f\x01\x00\x00\x00\x01t\x00\x00\x00\x02\x00\xff\x00\x00\x00\x01r\x00\x00\x00\x01c\x00\x00\x00\x01\x00\x00\x00\x01k\x00\x00\x00\x01v'
    seed kept '\x01\x95\xd0\xd6\xa3a:b\xc2\x81\xa2ok\xa2OK\x82\xa3err\xa3ERR\xa1x\xc3'
    seed commands '\x02*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nPING\r\n'
    ;;
  *)
    echo "fuzz: no target '$target' (expected: mqtt, replay)" >&2
    exit 2
    ;;
esac

binary="$FUZZ_DIR/${target}_fuzz"
echo "== building $binary"
nice -n 10 "$CXX" -std=c++20 -O1 -g -I . -Wall -Wextra -Werror \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all "${sources[@]}" "${libraries[@]}" -o "$binary"

echo "== fuzzing for ${FUZZ_SECONDS}s"
log="$FUZZ_DIR/fuzz.log"
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} nice -n 10 "$binary" "$FUZZ_DIR/corpus" \
  -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$FUZZ_DIR/findings/" >"$log" 2>&1 || status=$?

executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
if [[ -z "$executions" ]]; then  # stopped by a finding: the last progress line has the count
  executions=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
fi
findings=$(find "$FUZZ_DIR/findings" -type f | wc -l)
echo "executions: ${executions:-unknown}"
echo "findings: $findings (in $FUZZ_DIR/findings)"
echo "corpus: $(find "$FUZZ_DIR/corpus" -type f | wc -l) inputs"
if [[ $status -ne 0 || $findings -ne 0 ]]; then
  echo "== fuzzer log (tail)"
  tail -40 "$log"
  exit 1
fi
