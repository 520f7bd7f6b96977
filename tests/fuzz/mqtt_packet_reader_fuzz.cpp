// libFuzzer target for the MQTT packet reader (scripts/fuzz-mqtt.sh builds and runs it).
//
// Input: byte 0 chooses the reader's limits, byte 1 seeds the splits, the rest is what a peer sent.
// For both versions, what the reader makes of the bytes must not depend on how they were split; it
// must never hold more than one packet's worth of them; and every packet it decodes must encode
// (encoded_size() agreeing) and decode again to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mqtt/protocol/encoder.hpp"
#include "core/mqtt/protocol/packet_reader.hpp"

namespace {

using namespace routemq::mqtt;

void check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

struct Limits {
  std::size_t maximum_packet_size;
  bool oversized_is_error;
};

struct Outcome {
  std::vector<Packet> packets;
  std::optional<DecodeError> error;
};

// SplitMix64: a tiny deterministic generator, so that a finding replays exactly.
struct Splits {
  std::uint64_t state;
  std::size_t next(std::size_t left) {
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    // Mostly small pieces (1 to 8 bytes), now and then a large one.
    const std::size_t piece = (z & 3) == 0 ? 1 + (z >> 8) % 512 : 1 + (z >> 8) % 8;
    return piece < left ? piece : left;
  }
};

// The most a reader may keep after taking out every complete packet: a partial packet within the
// limit, or the head of an oversized PUBLISH (fixed header, topic length, topic, packet id).
std::size_t most_buffered(const Limits& limits) {
  const std::size_t oversized_head = 5 + 2 + 65'535 + 2;
  return limits.maximum_packet_size > oversized_head ? limits.maximum_packet_size : oversized_head;
}

Outcome read(std::string_view input, Version version, const Limits& limits, std::optional<Splits> splits) {
  PacketReader reader(version, limits.maximum_packet_size, limits.oversized_is_error);
  Outcome outcome;
  std::size_t at = 0;
  while (at < input.size()) {
    const std::size_t piece = splits ? splits->next(input.size() - at) : input.size();
    reader.feed(input.substr(at, piece));
    at += piece;
    while (auto packet = reader.next()) outcome.packets.push_back(std::move(*packet));
    check(reader.buffered() <= most_buffered(limits), "the reader kept more than one packet's worth of bytes");
  }
  if (reader.failed()) {
    outcome.error = reader.error();
    check(!reader.next().has_value(), "a packet after an error");
    check(reader.buffered() == 0, "bytes kept after an error");
  }
  return outcome;
}

void check_round_trip(const Packet& packet, Version version) {
  if (std::holds_alternative<OversizedPublish>(packet)) return;  // not a packet on the wire
  std::string wire;
  encode(packet, version, wire);
  check(wire.size() == encoded_size(packet, version), "encoded_size() disagrees with encode()");
  PacketReader reader(version, std::numeric_limits<std::size_t>::max());
  reader.feed(wire);
  auto again = reader.next();
  if (!again && reader.failed()) std::fprintf(stderr, "re-decoding failed: %s\n", reader.error().what.c_str());
  check(again.has_value(), "a re-encoded packet does not decode");
  check(*again == packet, "a re-encoded packet decodes to another value");
  check(!reader.next().has_value() && !reader.failed() && reader.buffered() == 0,
        "a re-encoded packet leaves bytes behind");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static constexpr std::size_t maximum_sizes[] = {8, 64, 300, 1 << 20};
  const Limits limits{maximum_sizes[data[0] & 3], (data[0] & 4) != 0};
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  for (Version version : {Version::v311, Version::v5}) {
    const Outcome whole = read(input, version, limits, std::nullopt);
    const Outcome pieces = read(input, version, limits, Splits{data[1] * 0x100000001ULL + size});
    check(whole.packets == pieces.packets, "the packets depend on how the bytes were split");
    check(whole.error.has_value() == pieces.error.has_value(), "an error depends on how the bytes were split");
    if (whole.error) {
      check(whole.error->reason_code == pieces.error->reason_code && whole.error->what == pieces.error->what,
            "the error depends on how the bytes were split");
      check(!whole.error->what.empty(), "an error without words");
    }
    for (const auto& packet : whole.packets) check_round_trip(packet, version);
  }
  return 0;
}
