// Encrypted values through a real redis-server: what is stored is not the plaintext, tampering and
// copying are detected and counted, and a manager without a key refuses to store. Also encryption as
// a view or manager option, under the other value recipes and sessions.
#include <catch2/catch.hpp>

#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "plugins/redis/recipes/encrypted_values.hpp"
#include "plugins/redis/recipes/session_store.hpp"
#include "plugins/redis/recipes/values_with_metadata.hpp"
#include "plugins/redis/recipes/write_behind.hpp"
#include "plugins/redis/recipes/write_through.hpp"
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

TEST_CASE("encrypted values: configure() rotates the key from the next initialize(), a bad key changes nothing") {
  EncryptedFixture f;
  REQUIRE(f.sync(redis::EncryptedValues(f.redis).set("old", "sealed with k1")));

  auto rotated = f.redis.config();
  rotated.encryption_key = "k2:OUZ1MKjGkgqQr9NH01QUtAJdy+3zrufEX7pS4agX3dY=," + key_spec;
  f.redis.configure(rotated);
  REQUIRE(f.redis.initialize());  // settings apply at the next start
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

// ---- encryption as a view or manager option: the value recipes and sessions store sealed bytes

TEST_CASE("encrypted views: CodecValues, remember, put, write-behind and values with metadata store sealed bytes that open only there") {
  EncryptedFixture f;
  auto vault = f.redis.scoped("v:", {.codec = redis::codec::msgpack(), .encrypt_values = true});
  REQUIRE(vault.encrypts_values());
  CHECK_FALSE(f.redis.encrypts_values());
  const nlohmann::json card = {{"number", "4111 1111 1111 1111"}, {"holder", "Ada"}};

  REQUIRE(f.sync(redis::CodecValues(vault).set("card", card, 60s)));
  CHECK(f.raw("v:card").starts_with("rq1"));
  CHECK(f.raw("v:card").find("Ada") == std::string::npos);
  CHECK(f.sync(redis::CodecValues(vault).get("card")).value == card);

  int loads = 0;
  auto loader = [&]() -> awaitable<nlohmann::json> {
    ++loads;
    co_return card;
  };
  CHECK(f.sync(redis::CacheAside(vault).remember("remembered", {.ttl = 60s}, loader)).source == redis::Remembered::Source::loaded);
  CHECK(f.raw("v:remembered").starts_with("rq1"));
  const auto again = f.sync(redis::CacheAside(vault).remember("remembered", {.ttl = 60s}, loader));
  CHECK(again.source == redis::Remembered::Source::cache);
  CHECK(again.value == card);
  CHECK(loads == 1);

  auto store = [](const nlohmann::json&) -> awaitable<void> { co_return; };
  CHECK(f.sync(redis::WriteThrough(vault).put("put", card, 60s, store)).cached);
  CHECK(f.raw("v:put").starts_with("rq1"));
  {
    asio::thread_pool store_pool{1};  // where write-behind's store writer runs
    auto writer = [](const std::vector<redis::PendingWrite>&) -> awaitable<void> { co_return; };
    redis::WriteBehind behind(vault, store_pool.get_executor(), {}, writer);
    CHECK(f.sync(behind.put("behind", card, 60s)).cached);
    CHECK(f.raw("v:behind").starts_with("rq1"));
    CHECK(f.sync(redis::CodecValues(vault).get("behind")).value == card);
    asio::co_spawn(store_pool, behind.drain(), asio::use_future).get();
    store_pool.join();
  }

  REQUIRE(f.sync(redis::ValuesWithMetadata(vault).set("page", card, {{"etag", "e1"}}, 60s)));
  const auto page_value = f.sync(f.redis.command({"HGET", "test:v:page", "value"})).reply.text;
  CHECK(page_value.starts_with("rq1"));
  const auto page = f.sync(redis::ValuesWithMetadata(vault).get("page"));
  CHECK(page.value == card);
  CHECK(page.metadata == nlohmann::json{{"etag", "e1"}});

  // The same bytes through a view that does not decrypt, or moved to another key: an error, counted.
  const auto plain_view = f.redis.scoped("v:", {.codec = redis::codec::msgpack()});
  CHECK_FALSE(f.sync(redis::CodecValues(plain_view).get("card")).value);
  REQUIRE(f.sync(f.redis.command({"COPY", "test:v:card", "test:v:moved"})).succeeded());
  const auto moved = f.sync(redis::CodecValues(vault).get("moved"));
  CHECK_FALSE(moved.value);
  CHECK(moved.error.find("could not be decrypted") != std::string::npos);
  CHECK(f.redis.cache_stats_all_scopes().decode_failures == 2);
}

TEST_CASE("encrypted views: without a key nothing is stored") {
  RedisFixture f;
  auto vault = f.redis.scoped("v:", {.encrypt_values = true});
  CHECK_FALSE(f.sync(redis::CodecValues(vault).set("a", "secret")));
  CHECK_FALSE(f.sync(f.redis.exists("v:a")));
}

TEST_CASE("encrypt_values on the manager: each session field sealed to its session and field, a moved field is unreadable and not saved over") {
  EncryptedFixture f;
  auto config = f.redis.config();
  config.encrypt_values = true;
  f.redis.configure(config);
  REQUIRE(f.redis.initialize());  // settings apply at the next start
  REQUIRE(f.redis.encrypts_values());
  redis::SessionStore sessions(f.redis);
  REQUIRE(f.sync(sessions.create("s1", {{"owner", "Ada"}, {"__version", "mine"}})).ok());
  const auto stored_owner = f.sync(f.redis.command({"HGET", "test:session:{s1}", "owner"})).reply.text;
  CHECK(stored_owner.starts_with("rq1"));
  auto loaded = f.sync(sessions.get("s1"));
  REQUIRE(loaded.found());
  CHECK(loaded.session.get("owner") == "Ada");
  CHECK(loaded.session.get("__version") == "mine");
  CHECK(f.sync(sessions.update("s1", [](redis::Session& s) { s.incr("logins"); })).ok());
  CHECK(f.sync(sessions.get("s1")).session.get("logins") == "1");

  // Another session's sealed field copied in: it does not open, and a save would drop it: refused.
  REQUIRE(f.sync(sessions.create("s2", {{"owner", "Eve"}})).ok());
  const auto eve = f.sync(f.redis.command({"HGET", "test:session:{s2}", "owner"})).reply.text;
  REQUIRE(f.sync(f.redis.command({"HSET", "test:session:{s1}", "owner", eve})).succeeded());
  auto tampered = f.sync(sessions.get("s1"));
  REQUIRE(tampered.found());
  CHECK_FALSE(tampered.session.get("owner"));
  CHECK(tampered.session.unreadable() == std::vector<std::string>{"owner"});
  const auto saved = f.sync(sessions.update("s1", [](redis::Session& s) { s.set("note", "x"); }));
  CHECK(saved.status == redis::SaveStatus::failed);
  CHECK(saved.problem.find("owner") != std::string::npos);
  CHECK(f.sync(f.redis.command({"HGET", "test:session:{s1}", "owner"})).reply.text == eve);  // left as it was
  // Replacing every field drops the unreadable one on purpose: allowed.
  CHECK(f.sync(sessions.replace("s1", {{"owner", "Ada again"}})).ok());
  CHECK(f.sync(sessions.get("s1")).session.fields() == std::map<std::string, std::string>{{"owner", "Ada again"}});

  // The user id is sealed like a field, and kept as stored by every later save.
  REQUIRE(f.sync(sessions.create("s3", {{"a", "1"}}, {.user_id = "u-42"})).ok());
  CHECK(f.sync(f.redis.command({"HGET", "test:session:{s3}", "__user_id"})).reply.text.starts_with("rq1"));
  REQUIRE(f.sync(sessions.update("s3", [](redis::Session& s) { s.incr("a"); })).ok());
  CHECK(f.sync(sessions.get("s3")).session.user_id() == "u-42");
}

TEST_CASE("encrypt_values: plain set, setex, get, getdel and the JSON values are sealed, as seed 004's set and get") {
  EncryptedFixture f;
  auto config = f.redis.config();
  config.encrypt_values = true;
  f.redis.configure(config);
  REQUIRE(f.redis.initialize());  // settings apply at the next start
  REQUIRE(f.sync(f.redis.set("card", "4111 1111")));
  CHECK(f.raw("card").find("4111") == std::string::npos);  // nothing readable in Redis
  CHECK(f.sync(f.redis.get("card")) == "4111 1111");
  REQUIRE(f.sync(f.redis.setex("pin", 60s, "1234")));
  CHECK(f.raw("pin").find("1234") == std::string::npos);
  CHECK(f.sync(f.redis.ttl("pin")) > 50);
  REQUIRE(f.sync(f.redis.set_json("profile", nlohmann::json{{"name", "Ann"}})));
  CHECK(f.raw("profile").find("Ann") == std::string::npos);
  CHECK(f.sync(f.redis.get_json("profile")).value == nlohmann::json{{"name", "Ann"}});
  CHECK(f.sync(f.redis.getdel("card")) == "4111 1111");
  CHECK_FALSE(f.sync(f.redis.exists("card")));

  // Bytes that do not open (written in plaintext, or copied from another key) read as nothing, counted.
  f.sync(f.redis.command({"SET", "test:plain", "not sealed"}));
  f.sync(f.redis.command({"COPY", "test:pin", "test:moved"}));
  const auto failures = f.redis.cache_stats().decode_failures.load();
  CHECK_FALSE(f.sync(f.redis.get("plain")));
  CHECK_FALSE(f.sync(f.redis.get("moved")));
  CHECK(f.redis.cache_stats().decode_failures.load() == failures + 2);
  CHECK(f.sync(f.redis.incr("counter")) == 1);  // counters stay counters

  auto unencrypted = f.redis.scoped("open:", {.encrypt_values = false});  // a view can opt out
  REQUIRE(f.sync(unencrypted.set("note", "readable")));
  CHECK(f.raw("open:note") == "readable");
}

TEST_CASE("encrypt_values with seed 004's bare hex key, and without a key: a plain set is refused, never stored in plaintext") {
  RedisFixture f;
  auto config = f.redis.config();
  config.encrypt_values = true;
  config.encryption_key = "c614af3095dbdfcb01be5cdd6d58c963e8e5b4b776cb71e477bb366d78c74ec4";
  f.redis.configure(config);
  REQUIRE(f.redis.initialize());  // settings apply at the next start
  REQUIRE(f.sync(f.redis.set("k", "v")));
  CHECK(f.sync(f.redis.get("k")) == "v");
  config.encryption_key.clear();
  f.redis.configure(config);
  REQUIRE(f.redis.initialize());  // settings apply at the next start
  CHECK_FALSE(f.sync(f.redis.set("k2", "v")));
  CHECK_FALSE(f.sync(f.redis.exists("k2")));
}
