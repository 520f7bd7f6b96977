#pragma once
// Which of Redis Cluster's 16384 slots a key lives in: CRC16 (XMODEM) of the key, modulo 16384, or
// of its hash tag: the part between the first '{' and the next '}', when that part is not empty.
// "{user:42}:cart" and "{user:42}:session" share a slot, so commands over both can run together.
#include <cstdint>
#include <string_view>

namespace routemq::redis {

inline constexpr std::uint16_t cluster_slots = 16384;

std::uint16_t crc16_xmodem(std::string_view bytes);
// The part of `key` that is hashed: its hash tag, or all of it.
std::string_view hashed_part(std::string_view key);
std::uint16_t hash_slot(std::string_view key);

}  // namespace routemq::redis
