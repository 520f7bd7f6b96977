#pragma once
// Helpers shared by the codec's tests: bytes written by hand, and the reader driven whole or in pieces.
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mqtt/protocol/encoder.hpp"
#include "core/mqtt/protocol/packet_reader.hpp"

namespace routemq::mqtt::test {

// {0x30, 0x02, 'a'} as a byte string.
inline std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

inline std::string encoded(const Packet& packet, Version version) {
  std::string out;
  encode(packet, version, out);
  return out;
}

struct Decoded {
  std::vector<Packet> packets;
  std::optional<DecodeError> error;
};

// Feeds `data` in pieces of `step` bytes (0: all at once), taking packets out after every piece.
inline Decoded decode_all(std::string_view data, Version version, std::size_t step = 0,
                          std::size_t maximum_packet_size = 1 << 20, bool oversized_is_error = false) {
  PacketReader reader(version, maximum_packet_size, oversized_is_error);
  Decoded result;
  if (step == 0) step = data.size() == 0 ? 1 : data.size();
  for (std::size_t at = 0; at < data.size(); at += step) {
    reader.feed(data.substr(at, step));
    while (auto packet = reader.next()) result.packets.push_back(std::move(*packet));
  }
  if (reader.failed()) result.error = reader.error();
  return result;
}

inline std::optional<Packet> decode_one(std::string_view data, Version version, std::size_t step = 0,
                                        std::size_t maximum_packet_size = 1 << 20) {
  auto result = decode_all(data, version, step, maximum_packet_size);
  if (result.error || result.packets.size() != 1) return std::nullopt;
  return std::move(result.packets.front());
}

// The reason code of the error decoding `data` whole, or -1 without one.
inline int error_code(std::string_view data, Version version, std::size_t maximum_packet_size = 1 << 20,
                      bool oversized_is_error = false) {
  auto result = decode_all(data, version, 0, maximum_packet_size, oversized_is_error);
  return result.error ? result.error->reason_code : -1;
}

}  // namespace routemq::mqtt::test
