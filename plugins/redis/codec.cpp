#include "plugins/redis/codec.hpp"

#include <array>
#include <cstdint>
#include <vector>

#include "core/json/bounded_json.hpp"

namespace routemq::redis::codec {
namespace {

// nlohmann reports through exceptions; a codec reports through its result.
template <class Operation>
Encoded encoded_or_error(Operation operation) {
  try {
    return {operation(), {}};
  } catch (const nlohmann::json::exception& e) {
    return {std::nullopt, e.what()};
  }
}

Encoded encode_json(const nlohmann::json& value) {
  // dump() would write a binary value as an object it cannot read back: refused instead.
  if (value.is_binary()) return {std::nullopt, "binary values need the msgpack or raw codec"};
  return encoded_or_error([&] { return value.dump(); });
}

Decoded decode_json(std::string_view bytes) {
  auto parsed = parse_json(bytes);  // stored bytes are outside input too: bounded like payloads
  // The syntax error is not passed on: it quotes the stored bytes, which may be anyone's data.
  if (!parsed.value) return {std::nullopt, parsed.too_deep ? "not valid JSON: " + parsed.error : "not valid JSON"};
  return {std::move(parsed.value), {}};
}

Encoded encode_msgpack(const nlohmann::json& value) {
  return encoded_or_error([&] {
    std::string bytes;
    nlohmann::json::to_msgpack(value, nlohmann::detail::output_adapter<char>(bytes));
    return bytes;
  });
}

Decoded decode_msgpack(std::string_view bytes) {
  auto parsed = parse_msgpack(bytes);  // bounded: the MessagePack reader recurses once per level
  if (!parsed.value)
    return {std::nullopt, parsed.too_deep ? "not valid MessagePack: " + parsed.error : "not valid MessagePack"};
  return {std::move(parsed.value), {}};
}

Encoded encode_raw(const nlohmann::json& value) {
  if (value.is_string()) return {value.get_ref<const std::string&>(), {}};
  if (value.is_binary()) {
    const auto& bytes = value.get_binary();
    return {std::string(bytes.begin(), bytes.end()), {}};
  }
  return {std::nullopt, std::string("the raw codec stores strings and binary values, not ") + value.type_name()};
}

// Any bytes are a raw value: the string holds them as they are (they need not be UTF-8).
Decoded decode_raw(std::string_view bytes) { return {nlohmann::json(std::string(bytes)), {}}; }

}  // namespace

const Codec& json() {
  static const Codec codec{"json", encode_json, decode_json};
  return codec;
}

const Codec& msgpack() {
  static const Codec codec{"msgpack", encode_msgpack, decode_msgpack};
  return codec;
}

const Codec& raw() {
  static const Codec codec{"raw", encode_raw, decode_raw};
  return codec;
}

const Codec* by_name(std::string_view name) {
  for (const Codec* known : {&json(), &msgpack(), &raw()})
    if (known->name == name) return known;
  return nullptr;
}

}  // namespace routemq::redis::codec
