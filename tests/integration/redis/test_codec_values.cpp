// Values through the codecs on a real server, decode errors counted, and values with metadata.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "plugins/redis/recipes/invalidation.hpp"
#include "plugins/redis/recipes/values_with_metadata.hpp"
#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "tests/integration/redis/redis_fixture.hpp"
#include "tests/support/all_bytes.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const json kEveryType{{"null", nullptr}, {"bool", true},         {"int", -7},
                      {"big", 1ULL << 63}, {"float", 0.5},       {"text", "ü ✓"},
                      {"array", json::array({1, json::array({2})})}, {"object", json{{"k", json::object()}}}};

}  // namespace

TEST_CASE("CodecValues round-trip through Redis with every built-in codec") {
  RedisFixture f;
  const auto bytes = all_byte_values();
  const json binary = json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));

  SECTION("json, the default") {
    REQUIRE(f.sync(redis::CodecValues(f.redis).set("v", kEveryType)));
    CHECK(f.sync(redis::CodecValues(f.redis).get("v")).value == kEveryType);
    CHECK(f.sync(f.redis.get_json("v")).value == kEveryType);  // plain JSON text, readable anywhere
    CHECK_FALSE(f.sync(redis::CodecValues(f.redis).set("b", binary)));
  }
  SECTION("msgpack") {
    f.redis.set_codec(redis::codec::msgpack());
    REQUIRE(f.sync(redis::CodecValues(f.redis).set("v", kEveryType)));
    CHECK(f.sync(redis::CodecValues(f.redis).get("v")).value == kEveryType);
    REQUIRE(f.sync(redis::CodecValues(f.redis).set("b", json{{"blob", binary}})));
    CHECK(f.sync(redis::CodecValues(f.redis).get("b")).value == json{{"blob", binary}});
  }
  SECTION("raw") {
    f.redis.set_codec(redis::codec::raw());
    REQUIRE(f.sync(redis::CodecValues(f.redis).set("b", binary)));
    CHECK(f.sync(f.redis.get("b")) == bytes);
    CHECK(f.sync(redis::CodecValues(f.redis).get("b")).value == json(bytes));
    CHECK_FALSE(f.sync(redis::CodecValues(f.redis).set("o", kEveryType)));
  }
}

TEST_CASE("the manager's codec comes from the configuration") {
  RedisFixture f;
  auto config = redis_config_for(f.server.port());
  config.codec = "msgpack";
  f.redis.configure(config);
  REQUIRE(f.redis.initialize());  // settings apply at the next start
  CHECK(f.redis.codec().name == "msgpack");
  REQUIRE(f.sync(redis::CodecValues(f.redis).set("k", json{{"a", 1}})));
  CHECK(f.sync(f.redis.get("k")) == std::string("\x81\xa1" "a\x01", 4));
}

TEST_CASE("a stored value the codec cannot decode is an error for the caller, counted, never thrown") {
  RedisFixture f;
  REQUIRE(f.sync(f.redis.set("k", "{broken")));
  const auto json_read = f.sync(redis::CodecValues(f.redis).get("k"));
  CHECK_FALSE(json_read.value);
  CHECK(json_read.error.find("'k'") != std::string::npos);
  CHECK(json_read.error.find("json codec") != std::string::npos);

  f.redis.set_codec(redis::codec::msgpack());
  REQUIRE(f.sync(f.redis.set("m", "\xc1")));
  CHECK(f.sync(redis::CodecValues(f.redis).get("m")).error.find("MessagePack") != std::string::npos);
  CHECK(f.redis.cache_stats().decode_failures == 2);
  CHECK_FALSE(f.sync(redis::CodecValues(f.redis).get("missing")).value);
  CHECK(f.sync(redis::CodecValues(f.redis).get("missing")).error.empty());  // a miss is not an error
}

TEST_CASE("stored values nested 100,000 levels deep are refused by every reader, not recursed into") {
  RedisFixture f;
  const std::string deep_json = std::string(100'000, '[') + "1" + std::string(100'000, ']');
  REQUIRE(f.sync(f.redis.set("j", deep_json)));
  const auto as_json = f.sync(f.redis.get_json("j"));
  CHECK_FALSE(as_json.value);
  CHECK(as_json.error.find("nested deeper than 128 levels") != std::string::npos);
  CHECK(f.sync(redis::CodecValues(f.redis).get("j")).error.find("nested deeper than 128 levels") != std::string::npos);

  f.redis.set_codec(redis::codec::msgpack());
  REQUIRE(f.sync(f.redis.set("m", std::string(100'000, '\x91') + '\x01')));
  CHECK(f.sync(redis::CodecValues(f.redis).get("m")).error.find("nested deeper than 128 levels") != std::string::npos);
  CHECK(f.redis.cache_stats().decode_failures == 2);
}

TEST_CASE("a user codec is used by CodecValues and CacheAside") {
  RedisFixture f;
  // Stores strings reversed: obviously not JSON, obviously its own.
  f.redis.set_codec(redis::Codec{"reversed",
                                 [](const json& value) -> redis::Encoded {
                                   if (!value.is_string()) return {std::nullopt, "strings only"};
                                   auto text = value.get<std::string>();
                                   return {std::string(text.rbegin(), text.rend()), {}};
                                 },
                                 [](std::string_view bytes) -> redis::Decoded {
                                   return {json(std::string(bytes.rbegin(), bytes.rend())), {}};
                                 }});
  REQUIRE(f.sync(redis::CodecValues(f.redis).set("k", "abc")));
  CHECK(f.sync(f.redis.get("k")) == "cba");
  CHECK(f.sync(redis::CodecValues(f.redis).get("k")).value == json("abc"));
  auto loader = []() -> awaitable<json> { co_return json("loaded"); };
  CHECK(f.sync(redis::CacheAside(f.redis).remember("r", {.ttl = 60s}, loader)).value == json("loaded"));
  CHECK(f.sync(f.redis.get("r")) == "dedaol");
  CHECK(f.sync(redis::CacheAside(f.redis).remember("r", {.ttl = 60s}, loader)).source == redis::Remembered::Source::cache);
}

TEST_CASE("values with metadata: stored together, one TTL, read and removed together") {
  RedisFixture f;
  const json metadata{{"source", "db"}, {"version", 3}};
  REQUIRE(f.sync(redis::ValuesWithMetadata(f.redis).set("page", json{{"title", "home"}}, metadata, 60s)));
  const auto read = f.sync(redis::ValuesWithMetadata(f.redis).get("page"));
  CHECK(read.value == json{{"title", "home"}});
  CHECK(read.metadata == metadata);
  CHECK(read.error.empty());
  const auto ttl = f.sync(f.redis.ttl("page"));
  CHECK(ttl > 0);
  CHECK(ttl <= 60);
  CHECK(f.sync(f.redis.keys("*")) == std::vector<std::string>{"page"});  // one key: they cannot drift apart

  // Replaced as a whole: no metadata field survives from the previous value, and no TTL given = none.
  REQUIRE(f.sync(redis::ValuesWithMetadata(f.redis).set("page", json("v2"), nullptr)));
  const auto replaced = f.sync(redis::ValuesWithMetadata(f.redis).get("page"));
  CHECK(replaced.value == json("v2"));
  CHECK(replaced.metadata.is_null());
  CHECK(f.sync(f.redis.ttl("page")) == -1);

  CHECK(f.sync(redis::Invalidation(f.redis).invalidate("page")) == 1);
  const auto gone = f.sync(redis::ValuesWithMetadata(f.redis).get("page"));
  CHECK_FALSE(gone.value);
  CHECK(gone.error.empty());
}

TEST_CASE("values with metadata: a plain value under the key, or undecodable fields, are errors") {
  RedisFixture f;
  REQUIRE(f.sync(f.redis.set("plain", "x")));
  const auto plain = f.sync(redis::ValuesWithMetadata(f.redis).get("plain"));
  CHECK_FALSE(plain.value);
  CHECK(plain.error.find("not a value with metadata") != std::string::npos);

  REQUIRE(f.sync(f.redis.hset("odd", {{"value", "1"}, {"metadata", "{oops"}})));
  const auto odd = f.sync(redis::ValuesWithMetadata(f.redis).get("odd"));
  CHECK(odd.value == json(1));
  CHECK(odd.error.find("metadata") != std::string::npos);
}

TEST_CASE("codec values and metadata degrade with Redis down: nothing stored, nothing read, no error") {
  RedisFixture f;
  f.server.stop();
  REQUIRE(wait_until([&] { return !f.redis.is_connected(); }, 10s));
  CHECK_FALSE(f.sync(redis::CodecValues(f.redis).set("k", json(1))));
  const auto value = f.sync(redis::CodecValues(f.redis).get("k"));
  CHECK_FALSE(value.value);
  CHECK(value.error.empty());
  CHECK_FALSE(f.sync(redis::ValuesWithMetadata(f.redis).set("k", json(1), json(2), 10s)));
  const auto with_metadata = f.sync(redis::ValuesWithMetadata(f.redis).get("k"));
  CHECK_FALSE(with_metadata.value);
  CHECK(with_metadata.error.empty());
}
