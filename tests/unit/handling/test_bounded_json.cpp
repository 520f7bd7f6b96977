// JSON from outside parsed with a nesting limit (core/json/bounded_json.hpp): deep input is refused
// without recursing, everything else parses exactly as nlohmann's own parser does.
#include <catch2/catch.hpp>

#include <string>

#include "core/handling/context.hpp"
#include "core/json/bounded_json.hpp"

using namespace routemq;
using nlohmann::json;

namespace {

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); }

std::string nested_objects(std::size_t depth) {
  std::string text;
  for (std::size_t i = 0; i < depth; ++i) text += R"({"a":)";
  return text + "1" + std::string(depth, '}');
}

}  // namespace

TEST_CASE("bounded JSON: documents up to the limit parse, one level more is refused and said so") {
  CHECK(parse_json(nested_arrays(8), 8).value == json::parse(nested_arrays(8)));
  CHECK(parse_json(nested_objects(8), 8).value == json::parse(nested_objects(8)));
  CHECK(parse_json("1", 1).value == json(1));  // a scalar is at depth 1
  for (const auto& deeper : {nested_arrays(9), nested_objects(9), std::string(R"({"a":[{"b":[[[[[[1]]]]]]}]})")}) {
    const auto parsed = parse_json(deeper, 8);
    CHECK_FALSE(parsed.value);
    CHECK(parsed.error == "nested deeper than 8 levels");
    CHECK(parsed.too_deep);
  }
  CHECK(parse_json(nested_arrays(default_max_json_depth)).value);
  CHECK_FALSE(parse_json(nested_arrays(default_max_json_depth + 1)).value);
}

TEST_CASE("bounded JSON: 100,000 levels of arrays or objects are refused without exhausting the stack") {
  for (const auto& hostile : {nested_arrays(100'000), nested_objects(100'000), std::string(100'000, '['),
                              std::string(200'000, '{')}) {
    const auto parsed = parse_json(hostile);
    CHECK_FALSE(parsed.value);
    CHECK_FALSE(parsed.error.empty());
  }
}

TEST_CASE("bounded JSON: anything within the limit is the document nlohmann's parser reads") {
  for (const char* text : {R"({"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-2.5e3,"g":18446744073709551615})",
                           R"([[], {}, [[]], [{}], "", "[[[[[[[[[[", "\"}]", "\u00e9\ud83d\ude00"])",
                           R"({"same":1,"same":2})", R"(  "text"  )", "-0", "[1e308, -9223372036854775808]"}) {
    INFO(text);
    const auto parsed = parse_json(text, 4);
    REQUIRE(parsed.value);
    CHECK(*parsed.value == json::parse(text));
    CHECK(parsed.value->dump() == json::parse(text).dump());
  }
}

TEST_CASE("bounded JSON: syntax errors carry nlohmann's message, and trailing input is an error") {
  for (const char* text : {"", "{", "[1,]", R"({"a" 1})", "1 2", "\"\xff\"", "nul", "[1]]"}) {
    INFO(text);
    const auto parsed = parse_json(text);
    CHECK_FALSE(parsed.value);
    CHECK(parsed.error.find("parse error") != std::string::npos);
    CHECK_FALSE(parsed.too_deep);
  }
}

TEST_CASE("bounded MessagePack: values round-trip, deep and truncated input is refused") {
  const json value = {{"a", {1, 2.5, "three", nullptr}}, {"blob", json::binary({0x00, 0xff, 0x10})}, {"n", {{"m", {}}}}};
  const auto bytes = json::to_msgpack(value);
  const std::string packed(bytes.begin(), bytes.end());
  CHECK(parse_msgpack(packed).value == value);
  CHECK_FALSE(parse_msgpack(packed.substr(0, packed.size() - 1)).value);
  CHECK_FALSE(parse_msgpack(packed + "\x01").value);  // one value, all the bytes

  const std::string deep = std::string(100'000, '\x91') + '\x01';  // fixarray of one, 100,000 times
  const auto parsed = parse_msgpack(deep);
  CHECK_FALSE(parsed.value);
  CHECK(parsed.error == "nested deeper than 128 levels");
  CHECK(parse_msgpack(std::string(128 - 1, '\x91') + '\x01').value);
}

TEST_CASE("a payload nested deeper than the context's limit is an invalid payload, not a crash") {
  Services services;
  InboundMessage message{"rpc/echo", nested_arrays(100'000), 1, false, std::nullopt, std::nullopt, {}, {}};
  Context ctx(std::move(message), Params{}, "rpc", [](OutboundMessage) {}, services, 64);
  CHECK(ctx.try_json() == nullptr);
  CHECK(ctx.json_error() == "nested deeper than 64 levels");
  CHECK_THROWS_AS(ctx.json(), InvalidPayload);
  CHECK_THROWS_WITH(ctx.json(), Catch::Contains("payload on 'rpc/echo' is not valid JSON: nested deeper than 64 levels"));

  InboundMessage shallow{"rpc/echo", nested_arrays(64), 1, false, std::nullopt, std::nullopt, {}, {}};
  Context fine(std::move(shallow), Params{}, "rpc", [](OutboundMessage) {}, services, 64);
  CHECK(fine.try_json() != nullptr);
}
