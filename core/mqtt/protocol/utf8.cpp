#include "core/mqtt/protocol/utf8.hpp"

namespace routemq::mqtt {

namespace {

bool is_continuation(std::uint8_t byte) { return (byte & 0xC0) == 0x80; }

// The allowed range of the second byte of a multi-byte sequence, after the Unicode Standard's
// Table 3-7: the narrow ranges after E0, ED, F0 and F4 are what exclude overlong forms, surrogates
// and code points above U+10FFFF.
struct Lead {
  int length = 0;  // 0: not a valid lead byte
  std::uint8_t second_min = 0x80;
  std::uint8_t second_max = 0xBF;
  const char* below = "";  // what a continuation byte below second_min means
  const char* above = "";  // ... and one above second_max
};

Lead classify(std::uint8_t byte) {
  if (byte >= 0xC2 && byte <= 0xDF) return {2, 0x80, 0xBF, "", ""};
  if (byte == 0xE0) return {3, 0xA0, 0xBF, "an overlong encoding", ""};
  if (byte == 0xED) return {3, 0x80, 0x9F, "", "a surrogate (U+D800..U+DFFF)"};
  if (byte >= 0xE1 && byte <= 0xEF) return {3, 0x80, 0xBF, "", ""};
  if (byte == 0xF0) return {4, 0x90, 0xBF, "an overlong encoding", ""};
  if (byte >= 0xF1 && byte <= 0xF3) return {4, 0x80, 0xBF, "", ""};
  if (byte == 0xF4) return {4, 0x80, 0x8F, "", "a code point above U+10FFFF"};
  return {};
}

const char* invalid_lead_reason(std::uint8_t byte) {
  if (is_continuation(byte)) return "a continuation byte without a lead byte";
  if (byte == 0xC0 || byte == 0xC1) return "an overlong encoding";
  return "a byte that never appears in UTF-8";
}

}  // namespace

std::optional<Utf8Problem> check_mqtt_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const std::uint8_t byte = bytes[i];
    if (byte < 0x80) {
      // [MQTT-1.5.4-2] (3.1.1: [MQTT-1.5.3-2]): U+0000 must not appear.
      if (byte == 0) return Utf8Problem{i, byte, "U+0000"};
      ++i;
      continue;
    }
    // [MQTT-1.5.4-1] (3.1.1: [MQTT-1.5.3-1]): well formed, and no surrogates.
    const Lead lead = classify(byte);
    if (lead.length == 0) return Utf8Problem{i, byte, invalid_lead_reason(byte)};
    if (i + static_cast<std::size_t>(lead.length) > size) return Utf8Problem{i, byte, "a truncated sequence"};
    const std::uint8_t second = bytes[i + 1];
    if (!is_continuation(second)) return Utf8Problem{i + 1, second, "a missing continuation byte"};
    if (second < lead.second_min) return Utf8Problem{i, byte, lead.below};
    if (second > lead.second_max) return Utf8Problem{i, byte, lead.above};
    for (int k = 2; k < lead.length; ++k) {
      if (!is_continuation(bytes[i + static_cast<std::size_t>(k)]))
        return Utf8Problem{i + static_cast<std::size_t>(k), bytes[i + static_cast<std::size_t>(k)],
                           "a missing continuation byte"};
    }
    i += static_cast<std::size_t>(lead.length);
  }
  return std::nullopt;
}

}  // namespace routemq::mqtt
