// Encrypted values through a real redis-server: what is stored is not the plaintext, tampering and
// copying are detected and counted, and a manager without a key refuses to store.
#include <catch2/catch.hpp>

#include "plugins/redis/recipes/encrypted_values.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

const std::string key_spec = "k1:AwnnZBKtdhkd/L5YECplYdht5J9JUUyeED/4MQwcT6o=";

struct EncryptedFixture : RedisFixture {
  EncryptedFixture() {
    auto config = redis_config_for(server.port());
    config.encryption_key = key_spec;
    redis.configure(config);
    redis.initialize();
    REQUIRE(redis.wait_connected(10s));
  }
  std::string raw(const std::string& name) { return sync(redis.command({"GET", "test:" + name})).reply.text; }
};

}  // namespace

TEST_CASE("encrypted values: round trip, nothing readable in Redis, TTL applied") {
  EncryptedFixture f;
  REQUIRE(redis::EncryptedValues(f.redis).has_key());
  REQUIRE(f.sync(redis::EncryptedValues(f.redis).set("card:7", "4111 1111 1111 1111", 60s)));
  CHECK(f.raw("card:7").find("4111") == std::string::npos);
  CHECK(f.raw("card:7").starts_with("rq1"));
  CHECK(f.sync(f.redis.ttl("card:7")) > 0);
  const auto opened = f.sync(redis::EncryptedValues(f.redis).get("card:7"));
  REQUIRE(opened.value);
  CHECK(*opened.value == "4111 1111 1111 1111");

  const auto missing = f.sync(redis::EncryptedValues(f.redis).get("card:8"));
  CHECK_FALSE(missing.value);
  CHECK(missing.error.empty());  // a miss, not an error
}

TEST_CASE("encrypted values: tampered in Redis or copied to another key: reported and counted, not returned") {
  EncryptedFixture f;
  REQUIRE(f.sync(redis::EncryptedValues(f.redis).set("a", "secret")));
  const auto envelope = f.raw("a");
  auto flipped = envelope;
  flipped[envelope.size() / 2] = static_cast<char>(flipped[envelope.size() / 2] ^ 0x20);
  REQUIRE(f.sync(f.redis.command({"SET", "test:tampered", flipped})).succeeded());
  REQUIRE(f.sync(f.redis.command({"SET", "test:copy", envelope})).succeeded());

  const auto tampered = f.sync(redis::EncryptedValues(f.redis).get("tampered"));
  CHECK_FALSE(tampered.value);
  CHECK(tampered.error.find("authentication") != std::string::npos);
  CHECK_FALSE(f.sync(redis::EncryptedValues(f.redis).get("copy")).value);
  REQUIRE(f.sync(f.redis.set("plain", "not encrypted")));
  CHECK(f.sync(redis::EncryptedValues(f.redis).get("plain")).error.find("not an encrypted value") != std::string::npos);
  CHECK(f.redis.cache_stats().decode_failures == 3);
}

TEST_CASE("encrypted values: a value copied from one tenant's view to another's does not open") {
  EncryptedFixture f;
  auto a = f.redis.scoped("tenant:a:");
  auto b = f.redis.scoped("tenant:b:");
  REQUIRE(f.sync(redis::EncryptedValues(a).set("card", "4111")));
  CHECK(f.sync(redis::EncryptedValues(a).get("card")).value == "4111");
  REQUIRE(f.sync(f.redis.command({"COPY", "test:tenant:a:card", "test:tenant:b:card"})).succeeded());
  const auto copied = f.sync(redis::EncryptedValues(b).get("card"));
  CHECK_FALSE(copied.value);
  CHECK(copied.error.find("authentication") != std::string::npos);
}

TEST_CASE("encrypted values: without a key nothing is stored") {
  RedisFixture f;
  CHECK_FALSE(redis::EncryptedValues(f.redis).has_key());
  CHECK_FALSE(f.sync(redis::EncryptedValues(f.redis).set("a", "secret")));
  CHECK_FALSE(f.sync(f.redis.exists("a")));
}

TEST_CASE("encrypted values with Redis down: not stored, nothing read, no error") {
  EncryptedFixture f;
  f.server.stop();
  REQUIRE(wait_until([&] { return !f.redis.is_connected(); }, 10s));
  CHECK_FALSE(f.sync(redis::EncryptedValues(f.redis).set("a", "secret")));
  const auto read = f.sync(redis::EncryptedValues(f.redis).get("a"));
  CHECK_FALSE(read.value);
  CHECK(read.error.empty());
}

TEST_CASE("encrypted values: configure() rotates the key for recipes made after it, a bad key changes nothing") {
  EncryptedFixture f;
  REQUIRE(f.sync(redis::EncryptedValues(f.redis).set("old", "sealed with k1")));

  auto rotated = f.redis.config();
  rotated.encryption_key = "k2:OUZ1MKjGkgqQr9NH01QUtAJdy+3zrufEX7pS4agX3dY=," + key_spec;
  f.redis.configure(rotated);
  REQUIRE(f.sync(redis::EncryptedValues(f.redis).set("new", "sealed with k2")));
  CHECK(f.raw("new").substr(0, 6) == std::string("rq1\x02k2", 6));  // the envelope names k2
  CHECK(*f.sync(redis::EncryptedValues(f.redis).get("old")).value == "sealed with k1");
  auto view = f.redis.scoped("t:");  // a view shares its manager's keyring
  REQUIRE(f.sync(redis::EncryptedValues(view).set("x", "in a view")));
  CHECK(f.raw("t:x").substr(0, 6) == std::string("rq1\x02k2", 6));

  auto bad = rotated;
  bad.encryption_key = "k3:c2VjcmV0";
  CHECK_THROWS_AS(f.redis.configure(bad), std::invalid_argument);
  CHECK(*f.sync(redis::EncryptedValues(f.redis).get("new")).value == "sealed with k2");
}
