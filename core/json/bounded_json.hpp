#pragma once
// JSON from outside (MQTT payloads, values read back from a store) parsed with a nesting limit.
//
// nlohmann::json parses text without recursion, but copying, comparing, dumping and MessagePack
// decoding recurse once per level: a payload of 200 KB of '[' is enough to exhaust a thread's stack
// in the first handler that copies or serialises it. Refusing deep input at the parse keeps every
// value the service holds shallow enough for all of those.
//
//   auto parsed = parse_json(payload, 128);
//   if (!parsed.value) reject(parsed.error);   // "nested deeper than 128 levels", or the syntax error
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace routemq {

// Deep enough for any real document, shallow enough that recursion over it is harmless.
inline constexpr std::size_t default_max_json_depth = 128;

struct BoundedJson {
  std::optional<nlohmann::json> value;
  std::string error;      // why there is no value: the syntax error (quoting the input), or the limit
  bool too_deep = false;  // the input was refused for its nesting, not its syntax
};

// JSON text; a value is at depth 1, each array or object opens one more level.
BoundedJson parse_json(std::string_view text, std::size_t max_depth = default_max_json_depth);
// MessagePack bytes (all of them one value), under the same limit.
BoundedJson parse_msgpack(std::string_view bytes, std::size_t max_depth = default_max_json_depth);

}  // namespace routemq
