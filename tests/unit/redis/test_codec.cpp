// The value codecs without Redis: every JSON type and binary data round-trip, and what cannot be
// encoded or decoded comes back as an error, never as an exception.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "plugins/redis/codec.hpp"
#include "tests/support/all_bytes.hpp"

using namespace routemq::redis;
using nlohmann::json;

namespace {

json every_json_type() {
  return json{{"null", nullptr},
              {"true", true},
              {"false", false},
              {"integer", -42},
              {"unsigned", 18446744073709551615ULL},
              {"float", 3.25},
              {"string", "héllo \"quoted\" \\ \u0001"},
              {"empty string", ""},
              {"array", json::array({1, "two", nullptr, json::array(), json::object()})},
              {"object", json{{"nested", json{{"deep", json::array({true})}}}}}};
}

json round_trip(const Codec& codec, const json& value) {
  const auto encoded = codec.encode(value);
  INFO(codec.name << ": " << encoded.error);
  REQUIRE(encoded.bytes);
  const auto decoded = codec.decode(*encoded.bytes);
  INFO(decoded.error);
  REQUIRE(decoded.value);
  return *decoded.value;
}

}  // namespace

TEST_CASE("json and msgpack round-trip every JSON type, alone and nested") {
  for (const Codec* codec : {&codec::json(), &codec::msgpack()}) {
    CHECK(round_trip(*codec, every_json_type()) == every_json_type());
    const auto values = every_json_type();  // named: items() of a temporary would dangle
    for (const auto& [name, value] : values.items()) {
      INFO(codec->name << " " << name);
      CHECK(round_trip(*codec, value) == value);
    }
  }
}

TEST_CASE("msgpack keeps binary values, json refuses them instead of writing what it cannot read back") {
  const auto bytes = routemq::test::all_byte_values();
  const json binary = json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  CHECK(round_trip(codec::msgpack(), json{{"blob", binary}}) == json{{"blob", binary}});
  const auto refused = codec::json().encode(binary);
  CHECK_FALSE(refused.bytes);
  CHECK(refused.error.find("msgpack or raw") != std::string::npos);
}

TEST_CASE("msgpack is smaller than JSON text for a typical telemetry record") {
  const json record{{"device", "sensor-17"}, {"temperature", 21.5}, {"humidity", 40}, {"ok", true}};
  CHECK(codec::msgpack().encode(record).bytes->size() < codec::json().encode(record).bytes->size());
}

TEST_CASE("raw stores strings and binary as their bytes and reads any bytes back as a string") {
  const auto bytes = routemq::test::all_byte_values();
  CHECK(*codec::raw().encode(json(bytes)).bytes == bytes);
  CHECK(*codec::raw().encode(json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()))).bytes == bytes);
  CHECK(codec::raw().decode(bytes).value->get<std::string>() == bytes);
  const auto refused = codec::raw().encode(json{{"a", 1}});
  CHECK_FALSE(refused.bytes);
  CHECK(refused.error.find("object") != std::string::npos);
}

TEST_CASE("bytes a codec cannot decode are an error, not an exception") {
  CHECK(codec::json().decode("{not json").error == "not valid JSON");
  CHECK_FALSE(codec::json().decode("").value);
  CHECK(codec::msgpack().decode("\xc1").error == "not valid MessagePack");  // 0xc1: never used
  CHECK_FALSE(codec::msgpack().decode("\x92\x01").value);                    // an array of 2 with 1 element
  CHECK_FALSE(codec::msgpack().decode(std::string("\x01\x02", 2)).value);    // trailing bytes
}

TEST_CASE("json refuses strings that are not UTF-8 (raw and msgpack keep them)") {
  const json latin1 = std::string("caf\xe9");
  CHECK_FALSE(codec::json().encode(latin1).bytes);
  CHECK(round_trip(codec::raw(), latin1) == latin1);
  CHECK(round_trip(codec::msgpack(), latin1) == latin1);
}

TEST_CASE("codecs are found by the names the configuration uses") {
  CHECK(codec::by_name("json") == &codec::json());
  CHECK(codec::by_name("msgpack") == &codec::msgpack());
  CHECK(codec::by_name("raw") == &codec::raw());
  CHECK(codec::by_name("yaml") == nullptr);
}

TEST_CASE("a user codec is two functions and a name") {
  const Codec upper{"upper",
                    [](const json& value) -> Encoded {
                      if (!value.is_string()) return {std::nullopt, "strings only"};
                      auto text = value.get<std::string>();
                      for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                      return {text, {}};
                    },
                    [](std::string_view bytes) -> Decoded { return {json(std::string(bytes)), {}}; }};
  CHECK(round_trip(upper, "abc") == "ABC");
  CHECK(upper.encode(1).error == "strings only");
}
