#pragma once
// Bytes as lowercase hex, two digits a byte: the one encoder behind SHA-1 digests, random tokens and
// keys built from binary values (an MQTT 5 correlation data).
#include <string>
#include <string_view>

namespace routemq::redis {

inline std::string lower_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    hex[2 * i] = digits[byte >> 4];
    hex[2 * i + 1] = digits[byte & 0x0f];
  }
  return hex;
}

}  // namespace routemq::redis
