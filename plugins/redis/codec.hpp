#pragma once
// How structured values become the bytes Redis stores, and back: chosen per manager (redis.codec in
// YAML, REDIS_CODEC) or per scoped view. Values are nlohmann::json, so every codec speaks the same type.
//
//   codec::json()     text JSON, the default; readable with redis-cli; no binary values
//   codec::msgpack()  MessagePack: smaller, faster to parse, keeps binary values (json::binary)
//   codec::raw()      the bytes themselves: a string (or binary) value in, a string value out
//   Codec{"mine", my_encode, my_decode}   any other format
//
// Neither side throws: a value a codec cannot encode, or stored bytes it cannot decode, comes back as
// an error for the caller to report.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace routemq::redis {

struct Encoded {
  std::optional<std::string> bytes;
  std::string error;  // why the value could not be encoded
};

// A value read back: the value, nothing (missing, or Redis away), or why the stored bytes could not
// be decoded.
struct Decoded {
  std::optional<nlohmann::json> value;
  std::string error;
};

struct Codec {
  std::string name;
  std::function<Encoded(const nlohmann::json&)> encode;
  std::function<Decoded(std::string_view)> decode;
};

namespace codec {
const Codec& json();
const Codec& msgpack();
const Codec& raw();
// "json", "msgpack" or "raw"; nullptr for any other name.
const Codec* by_name(std::string_view name);
}  // namespace codec

}  // namespace routemq::redis
