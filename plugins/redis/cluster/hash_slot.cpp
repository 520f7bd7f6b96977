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

// Two bytes at a time (every command's key is hashed): the byte-wise step, applied twice, is
//   crc' = T2[(crc >> 8) ^ b0] ^ T[(crc & 0xff) ^ b1],  T2[u] = (T[u] << 8 & 0xffff) ^ T[T[u] >> 8],
// since the CRC is linear (T[a ^ b] = T[a] ^ T[b]): two lookups that do not wait for each other,
// where the byte-wise loop's second lookup waited for the first.
constexpr std::array<std::uint16_t, 256> crc16_pair_table = [] {
  std::array<std::uint16_t, 256> table{};
  for (unsigned u = 0; u < 256; ++u)
    table[u] = static_cast<std::uint16_t>(((crc16_table[u] << 8) & 0xffff) ^ crc16_table[crc16_table[u] >> 8]);
  return table;
}();

unsigned byte_at(std::string_view bytes, std::size_t i) { return static_cast<unsigned char>(bytes[i]); }

}  // namespace

std::uint16_t crc16_xmodem(std::string_view bytes) {
  unsigned crc = 0;
  std::size_t i = 0;
  for (; i + 2 <= bytes.size(); i += 2)
    crc = crc16_pair_table[(crc >> 8) ^ byte_at(bytes, i)] ^ crc16_table[(crc & 0xff) ^ byte_at(bytes, i + 1)];
  if (i < bytes.size()) crc = ((crc << 8) & 0xffff) ^ crc16_table[(crc >> 8) ^ byte_at(bytes, i)];
  return static_cast<std::uint16_t>(crc);
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
