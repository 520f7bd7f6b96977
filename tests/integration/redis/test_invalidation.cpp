// Invalidation by key, prefix, glob pattern and tag, with glob characters in user data.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "plugins/redis/recipes/invalidation.hpp"
#include "plugins/redis/recipes/write_behind.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

bool exists(RedisFixture& f, const std::string& name) { return f.sync(f.redis.exists(name)); }

void set_all(RedisFixture& f, const std::vector<std::string>& names) {
  for (const auto& name : names) REQUIRE(f.sync(f.redis.set(name, "v")));
}

}  // namespace

TEST_CASE("invalidate: one key") {
  RedisFixture f;
  set_all(f, {"a", "ab"});
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate("a")) == 1);
  CHECK_FALSE(exists(f, "a"));
  CHECK(exists(f, "ab"));
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate("a")) == 0);
}

TEST_CASE("invalidate_prefix: hostile ids match only themselves, and nothing outside the key prefix goes") {
  RedisFixture f;
  const std::vector<std::string> names{"user:1*:a", "user:1*:b", "user:12:a", "user:1?:c", "user:[1]:d",
                                       "user:1:e",  "user:\\:f", "user:x:g"};
  set_all(f, names);
  REQUIRE(f.sync(f.redis.command({"SET", "other:user:1*:a", "v"})).succeeded());  // another app's key

  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_prefix("user:1*:")) == 2);
  CHECK_FALSE(exists(f, "user:1*:a"));
  CHECK_FALSE(exists(f, "user:1*:b"));
  for (const auto& kept : {"user:12:a", "user:1?:c", "user:[1]:d", "user:1:e", "user:\\:f", "user:x:g"})
    CHECK(exists(f, kept));

  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_prefix("user:[1]:")) == 1);
  CHECK(exists(f, "user:1:e"));
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_prefix("user:\\:")) == 1);
  CHECK(exists(f, "user:x:g"));
  CHECK(f.sync(f.redis.command({"EXISTS", "other:user:1*:a"})).reply.integer == 1);
}

TEST_CASE("invalidate_pattern: a glob with escaped user data removes exactly the intended keys") {
  RedisFixture f;
  set_all(f, {"user:1?:a", "user:1?:b", "user:12:a", "user:13:a", "order:1?:a"});
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_pattern("user:" + redis::glob_escape("1?") + ":*")) == 2);
  CHECK(exists(f, "user:12:a"));
  CHECK(exists(f, "user:13:a"));
  CHECK(exists(f, "order:1?:a"));
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_pattern("user:1?:*")) == 2);  // unescaped: the wildcard is meant
  CHECK(exists(f, "order:1?:a"));
}

TEST_CASE("invalidate_prefix: thousands of keys go in batches") {
  RedisFixture f;
  redis::Batch batch;
  for (int i = 0; i < 2500; ++i) batch.push({"SET", f.redis.key("bulk:" + std::to_string(i)), "v"});
  REQUIRE(f.sync(f.redis.pipeline(batch)).size() == 2500);
  REQUIRE(f.sync(f.redis.set("bulky", "v")));
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_prefix("bulk:")) == 2500);
  CHECK(f.sync(f.redis.keys("bulk:*", 10)).names.empty());
  CHECK(exists(f, "bulky"));
}

TEST_CASE("tags: invalidating a tag removes every key stored with it and the tag set, nothing else") {
  RedisFixture f;
  REQUIRE(f.sync(redis::Invalidation(f.redis).set_tagged("product:1", "a", 60s, {"products", "sale"})));
  REQUIRE(f.sync(redis::Invalidation(f.redis).set_tagged("product:2", "b", 600s, {"products"})));
  REQUIRE(f.sync(redis::Invalidation(f.redis).set_tagged("product:3", "c", 60s, {"sale"})));
  REQUIRE(f.sync(f.redis.set("product:4", "d")));
  CHECK(f.sync(f.redis.ttl("tag:products")) > 60);  // lives as long as its longest-lived key

  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_tag("products")) == 2);
  CHECK_FALSE(exists(f, "product:1"));
  CHECK_FALSE(exists(f, "product:2"));
  CHECK(exists(f, "product:3"));
  CHECK(exists(f, "product:4"));
  CHECK_FALSE(exists(f, "tag:products"));

  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_tag("sale")) == 1);  // product:1 was already gone
  CHECK_FALSE(exists(f, "product:3"));
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_tag("never-used")) == 0);
}

TEST_CASE("tags on any value: CodecValues, remember, put, write-behind and a tagged hash all go with their tag") {
  RedisFixture f;
  asio::thread_pool store_pool{1};  // where the write-behind's store writer runs
  auto store = [](const nlohmann::json&) -> awaitable<void> { co_return; };
  auto loader = []() -> awaitable<nlohmann::json> { co_return nlohmann::json{{"n", 1}}; };
  auto writer = [](const std::vector<redis::PendingWrite>&) -> awaitable<void> { co_return; };
  const std::vector<std::string> fleet{"fleet:7"};
  redis::WriteBehind behind(f.redis, store_pool.get_executor(), {}, writer);

  REQUIRE(f.sync(redis::CodecValues(f.redis).set("value", 1, 60s, fleet)));
  REQUIRE(f.sync(redis::CacheAside(f.redis).remember("remembered", {.ttl = 120s, .tags = fleet}, loader)).value);
  REQUIRE(f.sync(redis::WriteThrough(f.redis).put("put", 2, 30s, store, fleet)).cached);
  REQUIRE(f.sync(behind.put("behind", 3, 30s, fleet)).cached);
  CHECK(f.sync(f.redis.ttl("tag:fleet:7")) > 60);  // the longest TTL among its keys (remember's 120 s)
  REQUIRE(f.sync(f.redis.hset("hash", "field", "v")) == 1);
  CHECK(f.sync(redis::Invalidation(f.redis).tag("hash", fleet)));
  CHECK(f.sync(f.redis.ttl("tag:fleet:7")) == -1);  // it names a key without expiry: kept as long
  CHECK_FALSE(f.sync(redis::Invalidation(f.redis).tag("missing", fleet)));  // nothing to tag
  REQUIRE(f.sync(redis::CodecValues(f.redis).set("untagged", 4, 60s)));

  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_tag("fleet:7")) == 5);
  for (const char* name : {"value", "remembered", "put", "behind", "hash"}) CHECK_FALSE(exists(f, name));
  CHECK(exists(f, "untagged"));
  // A tag name with glob characters names its own set, nothing else.
  REQUIRE(f.sync(redis::CodecValues(f.redis).set("starred", 5, 60s, {"fleet*[7]"})));
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_tag("fleet*[7]")) == 1);
  CHECK_FALSE(exists(f, "starred"));
  CHECK(exists(f, "untagged"));
  asio::co_spawn(store_pool, behind.drain(), asio::use_future).get();
  store_pool.join();
}

TEST_CASE("invalidation with Redis down removes nothing and says 0 at once, and works again after a restart") {
  RedisFixture f;
  set_all(f, {"a", "b"});
  f.server.stop();
  REQUIRE(wait_until([&] { return !f.redis.is_connected(); }, 10s));
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate("a")) == 0);
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_prefix("")) == 0);
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_pattern("*")) == 0);
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_tag("t")) == 0);
  CHECK_FALSE(f.sync(redis::Invalidation(f.redis).set_tagged("k", "v", 60s, {"t"})));
  f.server.start();  // the same port, an empty server
  REQUIRE(f.redis.wait_connected(10s));
  REQUIRE(f.sync(redis::Invalidation(f.redis).set_tagged("k", "v", 60s, {"t"})));
  CHECK(f.sync(redis::Invalidation(f.redis).invalidate_tag("t")) == 1);
}

TEST_CASE("invalidation with Redis disabled removes nothing and says 0, never throwing") {
  redis::RedisManager disabled{redis::RedisConfig{}};
  CHECK(disabled.run_sync(redis::Invalidation(disabled).invalidate("k")) == 0);
  CHECK(disabled.run_sync(redis::Invalidation(disabled).invalidate_prefix("k")) == 0);
  CHECK(disabled.run_sync(redis::Invalidation(disabled).invalidate_pattern("k*")) == 0);
  CHECK(disabled.run_sync(redis::Invalidation(disabled).invalidate_tag("t")) == 0);
  CHECK_FALSE(disabled.run_sync(redis::Invalidation(disabled).set_tagged("k", "v", 60s, {"t"})));
}
