// README's degrade-to-no-op table ("Redis: the RedisManager", `call | disabled or down`), every row and
// every call it names, in the table's order, for a manager that is disabled, one whose Redis never
// answered and one whose Redis was killed. One function checks the table, so the cases cannot drift
// apart. Each call only has to return: run_sync() coming back is the "at once" (no timing is asserted;
// a call that waited for Redis would show as a slow test, one that waited forever as a hung one).
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "plugins/redis/pipeline.hpp"
#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "plugins/redis/recipes/encrypted_values.hpp"
#include "plugins/redis/recipes/invalidation.hpp"
#include "plugins/redis/recipes/values_with_metadata.hpp"
#include "plugins/redis/recipes/write_behind.hpp"
#include "plugins/redis/recipes/write_through.hpp"
#include "plugins/redis/redis_manager.hpp"
#include "tests/integration/redis/redis_fixture.hpp"
#include "tests/support/free_port.hpp"

using namespace routemq;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// An encryption key is configured, so that EncryptedValues' refusals are about Redis, not the key.
const std::string degrade_encryption_key = "k1:AwnnZBKtdhkd/L5YECplYdht5J9JUUyeED/4MQwcT6o=";

using OptionalStrings = std::vector<std::optional<std::string>>;

// What a store writer was given, from whatever thread it runs on.
struct WrittenValues {
  std::mutex mutex;
  std::map<std::string, json> rows;
  int calls = 0;

  void record(const std::string& key, const json& value) {
    std::lock_guard lock(mutex);
    ++calls;
    rows[key] = value;
  }
  std::pair<int, std::map<std::string, json>> seen() {
    std::lock_guard lock(mutex);
    return {calls, rows};
  }
};

void check_degrade_table(redis::RedisManager& r) {
  SECTION("get, getdel, hget, lpop, lindex, zscore, zrank, incr... (optional results): nullopt") {
    CHECK_FALSE(r.run_sync(r.get("k")));
    CHECK_FALSE(r.run_sync(r.getdel("k")));
    CHECK_FALSE(r.run_sync(r.hget("h", "f")));
    CHECK_FALSE(r.run_sync(r.lpop("l")));
    CHECK_FALSE(r.run_sync(r.rpop("l")));
    CHECK_FALSE(r.run_sync(r.lindex("l", 0)));
    CHECK_FALSE(r.run_sync(r.zscore("z", "m")));
    CHECK_FALSE(r.run_sync(r.zrank("z", "m")));
    CHECK_FALSE(r.run_sync(r.incr("n")));
    CHECK_FALSE(r.run_sync(r.incrby("n", 2)));
    CHECK_FALSE(r.run_sync(r.incrbyfloat("n", 0.5)));
    CHECK_FALSE(r.run_sync(r.decr("n")));
    CHECK_FALSE(r.run_sync(r.decrby("n", 2)));
    CHECK_FALSE(r.run_sync(r.hincrby("h", "f", 1)));
    CHECK_FALSE(r.run_sync(r.zincrby("z", 1.0, "m")));
    CHECK_FALSE(r.run_sync(r.key_info("k")));
    CHECK_FALSE(r.run_sync(r.blpop({"l"}, 1s)));
    const auto stored_json = r.run_sync(r.get_json("j"));
    CHECK_FALSE(stored_json.value);
    CHECK(stored_json.error.empty());
  }
  SECTION("set, setex, mset, expire, persist, rename, ltrim, exists, hexists, sismember: false") {
    CHECK_FALSE(r.run_sync(r.set("k", "v")));
    CHECK_FALSE(r.run_sync(r.setex("k", 60s, "v")));
    CHECK_FALSE(r.run_sync(r.mset({{"a", "1"}, {"b", "2"}})));
    CHECK_FALSE(r.run_sync(r.expire("k", 60s)));
    CHECK_FALSE(r.run_sync(r.pexpire("k", 60000ms)));
    CHECK_FALSE(r.run_sync(r.persist("k")));
    CHECK_FALSE(r.run_sync(r.rename("k", "k2")));
    CHECK_FALSE(r.run_sync(r.ltrim("l", 0, 9)));
    CHECK_FALSE(r.run_sync(r.exists("k")));
    CHECK_FALSE(r.run_sync(r.hexists("h", "f")));
    CHECK_FALSE(r.run_sync(r.sismember("s", "m")));
    CHECK_FALSE(r.run_sync(r.set_json("j", json{{"a", 1}})));
    CHECK_FALSE(r.run_sync(r.ping()));
  }
  SECTION("del, unlink, append, strlen, hset, hdel, hlen, lpush, llen, sadd, scard, zadd, zcard, publish ...: 0") {
    CHECK(r.run_sync(r.del({"k"})) == 0);
    CHECK(r.run_sync(r.unlink({"k"})) == 0);
    CHECK(r.run_sync(r.append("k", "v")) == 0);
    CHECK(r.run_sync(r.strlen("k")) == 0);
    CHECK(r.run_sync(r.hset("h", "f", "v")) == 0);
    CHECK(r.run_sync(r.hset("h", std::map<std::string, std::string>{{"f", "v"}})) == 0);
    CHECK(r.run_sync(r.hdel("h", {"f"})) == 0);
    CHECK(r.run_sync(r.hlen("h")) == 0);
    CHECK(r.run_sync(r.lpush("l", {"v"})) == 0);
    CHECK(r.run_sync(r.rpush("l", {"v"})) == 0);
    CHECK(r.run_sync(r.llen("l")) == 0);
    CHECK(r.run_sync(r.sadd("s", {"m"})) == 0);
    CHECK(r.run_sync(r.srem("s", {"m"})) == 0);
    CHECK(r.run_sync(r.scard("s")) == 0);
    CHECK(r.run_sync(r.zadd("z", {{1.0, "m"}})) == 0);
    CHECK(r.run_sync(r.zrem("z", {"m"})) == 0);
    CHECK(r.run_sync(r.zcard("z")) == 0);
    CHECK(r.run_sync(r.zremrangebyscore("z", "-inf", "+inf")) == 0);
    CHECK(r.run_sync(r.publish("c", "m")) == 0);
    CHECK(r.run_sync(r.publish_json("c", json{{"a", 1}})) == 0);
  }
  SECTION("ttl, pttl: -2 (as for a missing key)") {
    CHECK(r.run_sync(r.ttl("k")) == -2);
    CHECK(r.run_sync(r.pttl("k")) == -2);
  }
  SECTION("type: none") {
    CHECK(r.run_sync(r.type("k")) == "none");
  }
  SECTION("lists of values: empty (keys(pattern, limit): interrupted, scan: nullopt)") {
    CHECK(r.run_sync(r.keys("*")).empty());
    CHECK(r.run_sync(r.hgetall("h")).empty());
    CHECK(r.run_sync(r.hkeys("h")).empty());
    CHECK(r.run_sync(r.hvals("h")).empty());
    CHECK(r.run_sync(r.lrange("l", 0, -1)).empty());
    CHECK(r.run_sync(r.smembers("s")).empty());
    CHECK(r.run_sync(r.sunion({"s", "t"})).empty());
    CHECK(r.run_sync(r.sinter({"s", "t"})).empty());
    CHECK(r.run_sync(r.sdiff({"s", "t"})).empty());
    CHECK(r.run_sync(r.zrange("z", 0, -1)).empty());
    CHECK(r.run_sync(r.zrange_withscores("z", 0, -1)).empty());
    CHECK(r.run_sync(r.zrevrange("z", 0, -1)).empty());
    CHECK(r.run_sync(r.zrangebyscore("z", "-inf", "+inf")).empty());
    const auto limited = r.run_sync(r.keys("*", 10));
    CHECK(limited.names.empty());
    CHECK(limited.interrupted);
    CHECK_FALSE(limited.complete());
    CHECK_FALSE(r.run_sync(r.scan("*")));
  }
  SECTION("mget, hmget: one nullopt per key") {
    CHECK(r.run_sync(r.mget({"a", "b", "c"})) == OptionalStrings(3));
    CHECK(r.run_sync(r.hmget("h", {"f", "g"})) == OptionalStrings(2));
  }
  SECTION("command, pipeline, transaction, eval, lease().command: a Result with unavailable() true") {
    CHECK(r.run_sync(r.command({"GET", r.key("k")})).unavailable());
    redis::Batch batch;
    batch.push({"INCR", r.key("n")}).push({"GET", r.key("k")});
    const auto replies = r.run_sync(r.pipeline(batch));
    CHECK(replies.size() == batch.size());
    for (const auto& reply : replies) CHECK(reply.unavailable());
    CHECK(r.run_sync(r.transaction(batch)).unavailable());
    CHECK(r.run_sync(r.eval(redis::Script("return 1"), {"k"}, {})).unavailable());
    auto lease = r.lease();
    CHECK(r.run_sync(lease.command({"GET", r.key("k")})).unavailable());
    CHECK(r.run_sync(lease.transaction(batch)).unavailable());
  }
  SECTION("Pipeline::run, Pipeline::run_atomically: false, each queued value its method's default") {
    redis::Pipeline pipe(r);
    const auto got = pipe.get("k");
    const auto stored = pipe.set("k", "v");
    const auto deleted = pipe.del("k");
    const auto remaining = pipe.pttl("k");
    const auto kind = pipe.type("k");
    const auto counted = pipe.incr("n");
    const auto range = pipe.lrange("l", 0, -1);
    CHECK_FALSE(r.run_sync(pipe.run()));
    CHECK_FALSE(got.get());
    CHECK_FALSE(stored.get());
    CHECK(deleted.get() == 0);
    CHECK(remaining.get() == -2);
    CHECK(kind.get() == "none");
    CHECK_FALSE(counted.get());
    CHECK(range.get().empty());
    redis::Pipeline atomic(r);
    const auto atomic_set = atomic.set("k", "v");
    CHECK_FALSE(r.run_sync(atomic.run_atomically()));
    CHECK_FALSE(atomic_set.get());
  }
  SECTION("CodecValues::set, ValuesWithMetadata::set, EncryptedValues::set, Invalidation::set_tagged, Invalidation::tag: false") {
    redis::EncryptedValues vault(r);
    REQUIRE(vault.has_key());  // so that a false is Redis's absence, not a missing key
    redis::ValuesWithMetadata pages(r);
    redis::Invalidation cache(r);
    CHECK_FALSE(r.run_sync(redis::CodecValues(r).set("v", json{{"a", 1}}, 60s)));
    CHECK_FALSE(r.run_sync(redis::CodecValues(r).set("v", json{{"a", 1}}, 60s, {"fleet"})));
    CHECK_FALSE(r.run_sync(pages.set("p", json("body"), json{{"etag", "x"}}, 60s)));
    CHECK_FALSE(r.run_sync(vault.set("card", "4111", 60s)));
    CHECK_FALSE(r.run_sync(cache.set_tagged("t", "v", 60s, {"fleet"})));
    CHECK_FALSE(r.run_sync(cache.tag("t", {"fleet"})));
  }
  SECTION("CodecValues::get, ValuesWithMetadata::get, EncryptedValues::get: no value, empty error (a miss)") {
    const auto codec_value = r.run_sync(redis::CodecValues(r).get("v"));
    CHECK_FALSE(codec_value.value);
    CHECK(codec_value.error.empty());
    redis::ValuesWithMetadata pages(r);
    const auto page = r.run_sync(pages.get("p"));
    CHECK_FALSE(page.value);
    CHECK(page.error.empty());
    redis::EncryptedValues vault(r);
    const auto card = r.run_sync(vault.get("card"));
    CHECK_FALSE(card.value);
    CHECK(card.error.empty());
  }
  SECTION("CacheAside::remember: the loader's value, every call") {
    int loads = 0;  // touched by the loader on the io thread; read after run_sync returned
    redis::Loader loader = [&loads]() -> awaitable<json> {
      ++loads;
      co_return json{{"load", loads}};
    };
    redis::CacheAside cache(r);
    const auto first = r.run_sync(cache.remember("u", {.ttl = 60s}, loader));
    const auto second = r.run_sync(cache.remember("u", {.ttl = 60s}, loader));
    CHECK(loads == 2);  // nothing was kept between the calls: the loader ran each time
    REQUIRE(first.value);
    REQUIRE(second.value);
    CHECK(*first.value == json{{"load", 1}});
    CHECK(*second.value == json{{"load", 2}});
    CHECK(first.source == redis::Remembered::Source::loaded);
    CHECK(second.source == redis::Remembered::Source::loaded);
    CHECK(first.error.empty());
  }
  SECTION("WriteThrough::put: the store is written, cached false, error says the old value may be served until its TTL") {
    WrittenValues store;
    auto writer = [&store](const json& value) -> awaitable<void> {
      store.record("u", value);
      co_return;
    };
    const auto put = r.run_sync(redis::WriteThrough(r).put("u", json("new"), 60s, writer));
    CHECK(put.stored);
    CHECK_FALSE(put.cached);
    CHECK_THAT(put.error, Catch::Contains("may serve the old value until its TTL"));
    const auto [calls, rows] = store.seen();
    CHECK(calls == 1);
    CHECK(rows.at("u") == json("new"));
  }
  SECTION("WriteBehind::put: queued for the store as usual, cached false") {
    WrittenValues store;
    asio::thread_pool app{1};  // where the batch writer runs, as an app's executor
    redis::BatchWriter writer = [&store](const std::vector<redis::PendingWrite>& batch) -> awaitable<void> {
      for (const auto& write : batch) store.record(write.key, write.value);
      co_return;
    };
    {
      redis::WriteBehind behind(r, app.get_executor(), {}, writer);
      const auto put = r.run_sync(behind.put("d", json{{"on", true}}, 60s));
      CHECK(put.stored);
      CHECK_FALSE(put.cached);
      CHECK(behind.pending() == 1);
      asio::co_spawn(app, behind.drain(), asio::use_future).get();
      CHECK(behind.pending() == 0);
    }
    app.join();
    const auto [calls, rows] = store.seen();
    CHECK(calls == 1);
    CHECK(rows.at("d") == json{{"on", true}});
  }
  SECTION("Invalidation::invalidate*: 0") {
    redis::Invalidation cache(r);
    CHECK(r.run_sync(cache.invalidate("k")) == 0);
    CHECK(r.run_sync(cache.invalidate_prefix("user:")) == 0);
    CHECK(r.run_sync(cache.invalidate_pattern("user:*")) == 0);
    CHECK(r.run_sync(cache.invalidate_tag("fleet")) == 0);
  }
}

}  // namespace

TEST_CASE("every row of the degrade table: a disabled manager") {
  redis::RedisConfig config;  // enabled = false
  config.encryption_key = degrade_encryption_key;
  redis::RedisManager r{config};
  CHECK_FALSE(r.initialize());
  CHECK_FALSE(r.is_configured());
  CHECK_FALSE(r.is_enabled());
  CHECK(r.stats().state == "disabled");
  CHECK_THAT(r.run_sync(r.command({"PING"})).error_text(), Catch::Contains("disabled"));
  const auto refused_before = r.stats().unavailable;
  check_degrade_table(r);
  CHECK(r.stats().unavailable > refused_before);  // the row's refusals counted, as /metrics shows them
}

TEST_CASE("every row of the degrade table: a manager whose Redis is down") {
  // Enabled, pointed at a loopback port nothing listens on: every connection attempt is refused.
  auto config = test::redis_config_for(test::free_port());
  config.encryption_key = degrade_encryption_key;
  redis::RedisManager r{config};
  CHECK_FALSE(r.initialize());  // returns at the first refused attempt
  CHECK(r.is_configured());
  CHECK_FALSE(r.is_enabled());
  REQUIRE_FALSE(r.is_connected());  // a server that took the port since would make this no test
  const auto refused_before = r.stats().unavailable;
  check_degrade_table(r);
  CHECK(r.stats().unavailable > refused_before);  // the row's refusals counted, as /metrics shows them
  CHECK(r.stats().connection_failures > 0);
}

TEST_CASE("every row of the degrade table: a manager whose Redis went away") {
  // What README's paragraph above the table describes: connected, then the server is killed for real.
  // Not the same path as never connecting: the pool, its connections and scripts existed.
  test::RedisServer server;
  server.start();
  auto config = test::redis_config_for(server.port());
  config.encryption_key = degrade_encryption_key;
  redis::RedisManager r{config};
  REQUIRE(r.initialize());
  REQUIRE(r.run_sync(r.set("k", "before")));
  server.kill9();
  REQUIRE(test::wait_until([&] { return !r.is_connected(); }, 10s));
  const auto refused_before = r.stats().unavailable;
  check_degrade_table(r);
  CHECK(r.stats().unavailable > refused_before);  // the row's refusals counted, as /metrics shows them
}
