#pragma once
// The UTF-8 an MQTT string must be (OASIS MQTT 5.0, 1.5.4; 3.1.1, 1.5.3): well formed per Unicode
// (no overlong forms, nothing above U+10FFFF), no surrogates U+D800..U+DFFF, and no U+0000.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace routemq::mqtt {

struct Utf8Problem {
  std::size_t offset = 0;  // of the first byte that makes the text invalid
  std::uint8_t byte = 0;   // that byte
  const char* what = "";   // "an overlong encoding", "a surrogate", "U+0000" ...
};

// nullopt when `text` is a valid MQTT UTF-8 string.
std::optional<Utf8Problem> check_mqtt_utf8(std::string_view text);

}  // namespace routemq::mqtt
