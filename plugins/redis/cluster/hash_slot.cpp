#include "plugins/redis/cluster/hash_slot.hpp"

#include <array>

namespace routemq::redis {
namespace {

// CRC16 with polynomial 0x1021, initial value 0, no reflection: one table entry per byte value.
constexpr std::array<std::uint16_t, 256> crc16_table = [] {
  std::array<std::uint16_t, 256> table{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    unsigned crc = byte << 8;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = static_cast<std::uint16_t>(crc);
  }
  return table;
}();

}  // namespace

std::uint16_t crc16_xmodem(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (const char c : bytes)
    crc = static_cast<std::uint16_t>((crc << 8) ^ crc16_table[((crc >> 8) ^ static_cast<unsigned char>(c)) & 0xff]);
  return crc;
}

std::string_view hashed_part(std::string_view key) {
  const auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;  // no tag, or "{}": the whole key
  return key.substr(open + 1, close - open - 1);
}

std::uint16_t hash_slot(std::string_view key) { return crc16_xmodem(hashed_part(key)) % cluster_slots; }

}  // namespace routemq::redis
