// Write-through (RedisManager::put) and write-behind (redis::WriteBehind) against a real server.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "plugins/redis/recipes/write_behind.hpp"
#include "plugins/redis/recipes/write_through.hpp"
#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The system of record the tests write to: a map, and the batches it was given.
struct FakeStore {
  std::mutex mutex;
  std::map<std::string, json> rows;
  std::vector<std::size_t> batch_sizes;
  int failures_left = 0;

  redis::BatchWriter writer() {
    return [this](const std::vector<redis::PendingWrite>& batch) -> awaitable<void> {
      std::lock_guard lock(mutex);
      if (failures_left > 0) {
        --failures_left;
        throw std::runtime_error("store unavailable");
      }
      batch_sizes.push_back(batch.size());
      for (const auto& write : batch) rows[write.key] = write.value;
      co_return;
    };
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return rows.size();
  }
  json row(const std::string& key) {
    std::lock_guard lock(mutex);
    return rows.count(key) ? rows[key] : json();
  }
};

// A server, a store, and the app's executor the store writes run on.
struct WriteBehindFixture : RedisFixture {
  FakeStore store;
  asio::thread_pool app{1};

  redis::WriteBehind make(const redis::RedisManager& redis, redis::WriteBehindOptions options) {
    return redis::WriteBehind(redis, app.get_executor(), options, store.writer());
  }
  void drain(redis::WriteBehind& behind) { asio::co_spawn(app, behind.drain(), asio::use_future).get(); }
  ~WriteBehindFixture() { app.join(); }
};

}  // namespace

TEST_CASE("put writes the store first, then the cache") {
  RedisFixture f;
  REQUIRE(f.sync(redis::CodecValues(f.redis).set("user:1", json("old"))));
  std::optional<redis::Decoded> cache_while_storing;
  auto writer = [&](const json&) -> awaitable<void> {
    cache_while_storing = co_await redis::CodecValues(f.redis).get("user:1");
  };
  const auto result = f.sync(redis::WriteThrough(f.redis).put("user:1", json("new"), 60s, writer));
  CHECK(result.stored);
  CHECK(result.cached);
  CHECK(result.error.empty());
  REQUIRE(cache_while_storing);
  CHECK(cache_while_storing->value == json("old"));  // the store went first
  CHECK(f.sync(redis::CodecValues(f.redis).get("user:1")).value == json("new"));
  CHECK(f.sync(f.redis.ttl("user:1")) > 0);
}

TEST_CASE("put: a failed store write invalidates the cached value and reports the store's error") {
  RedisFixture f;
  REQUIRE(f.sync(redis::CodecValues(f.redis).set("user:1", json("old"))));
  auto failing = [](const json&) -> awaitable<void> {
    throw std::runtime_error("deadlock detected");
    co_return;
  };
  const auto result = f.sync(redis::WriteThrough(f.redis).put("user:1", json("new"), 60s, failing));
  CHECK_FALSE(result.stored);
  CHECK_FALSE(result.cached);
  CHECK(result.error.find("deadlock detected") != std::string::npos);
  CHECK_FALSE(f.sync(f.redis.exists("user:1")));  // the next read goes to the store
}

TEST_CASE("put: a value the codec cannot encode is stored, and the old cached value invalidated") {
  RedisFixture f;
  REQUIRE(f.sync(redis::CodecValues(f.redis).set("k", json("old"))));
  json stored;
  auto writer = [&](const json& value) -> awaitable<void> {
    stored = value;
    co_return;
  };
  const auto result = f.sync(redis::WriteThrough(f.redis).put("k", json(std::string("caf\xe9")), 60s, writer));  // not UTF-8: no JSON
  CHECK(result.stored);
  CHECK_FALSE(result.cached);
  CHECK(result.error.find("invalidated") != std::string::npos);
  CHECK(stored == json(std::string("caf\xe9")));
  CHECK_FALSE(f.sync(f.redis.exists("k")));
}

TEST_CASE("put with Redis down still writes the store and says the cache may be stale") {
  RedisFixture f;
  f.server.stop();
  REQUIRE(wait_until([&] { return !f.redis.is_connected(); }, 10s));
  int writes = 0;
  auto writer = [&](const json&) -> awaitable<void> {
    ++writes;
    co_return;
  };
  const auto result = f.sync(redis::WriteThrough(f.redis).put("k", json(1), 60s, writer));
  CHECK(result.stored);
  CHECK_FALSE(result.cached);
  CHECK(result.error.find("until its TTL") != std::string::npos);
  CHECK(writes == 1);
}

TEST_CASE("write-behind: values are cached at once and reach the store in batches") {
  WriteBehindFixture f;
  auto behind = f.make(f.redis, {.batch_size = 10, .interval = 50ms});
  for (int i = 0; i < 25; ++i) {
    const auto queued = f.sync(behind.put("device:" + std::to_string(i), json{{"i", i}}, 60s));
    REQUIRE(queued.stored);
    REQUIRE(queued.cached);
  }
  CHECK(f.sync(redis::CodecValues(f.redis).get("device:7")).value == json{{"i", 7}});
  REQUIRE(wait_until([&] { return f.store.size() == 25; }, 10s));
  CHECK(f.store.row("device:24") == json{{"i", 24}});
  {
    std::lock_guard lock(f.store.mutex);
    for (auto size : f.store.batch_sizes) CHECK(size <= 10);
  }
  CHECK(behind.stats().written == 25);
  CHECK(behind.pending() == 0);
  f.drain(behind);
}

TEST_CASE("write-behind: a key written again before its flush is stored once, with its last value") {
  WriteBehindFixture f;
  auto behind = f.make(f.redis, {.batch_size = 1000, .interval = 10s});
  for (int i = 0; i < 5; ++i) REQUIRE(f.sync(behind.put("counter", json(i))).stored);
  CHECK(behind.pending() == 1);
  CHECK(behind.stats().coalesced == 4);
  f.drain(behind);
  CHECK(f.store.row("counter") == json(4));
  CHECK(behind.stats().written == 1);
}

TEST_CASE("write-behind: drain on shutdown writes everything pending, then refuses new writes") {
  WriteBehindFixture f;
  // A long interval and a large batch: nothing would be flushed before drain().
  auto behind = f.make(f.redis, {.batch_size = 100, .interval = 1h});
  for (int i = 0; i < 250; ++i) REQUIRE(f.sync(behind.put("k" + std::to_string(i), json(i))).stored);
  f.drain(behind);
  CHECK(f.store.size() == 250);
  CHECK(behind.pending() == 0);
  const auto late = f.sync(behind.put("late", json(1)));
  CHECK_FALSE(late.stored);
  CHECK_FALSE(late.cached);
  CHECK(late.error.find("draining") != std::string::npos);
  CHECK_FALSE(f.sync(f.redis.exists("late")));
}

TEST_CASE("write-behind: the queue is bounded, and a full queue refuses without caching") {
  WriteBehindFixture f;
  auto behind = f.make(f.redis, {.max_pending = 3, .batch_size = 100, .interval = 1h});
  for (int i = 0; i < 3; ++i) REQUIRE(f.sync(behind.put("k" + std::to_string(i), json(i))).stored);
  const auto refused = f.sync(behind.put("k3", json(3)));
  CHECK_FALSE(refused.stored);
  CHECK(refused.error.find("queue full") != std::string::npos);
  CHECK_FALSE(f.sync(f.redis.exists("k3")));
  CHECK(f.sync(behind.put("k0", json(10))).stored);  // a queued key can still be updated
  CHECK(behind.stats().refused == 1);
  f.drain(behind);
  CHECK(f.store.size() == 3);
  CHECK(f.store.row("k0") == json(10));
}

TEST_CASE("write-behind: a failing store is retried, and a batch that keeps failing is dropped and counted") {
  WriteBehindFixture f;
  SECTION("recovers within the attempts") {
    f.store.failures_left = 2;
    auto behind = f.make(f.redis, {.batch_size = 10, .interval = 20ms, .max_attempts = 3});
    REQUIRE(f.sync(behind.put("k", json(1))).stored);
    f.drain(behind);
    CHECK(f.store.row("k") == json(1));
    CHECK(behind.stats().failures == 2);
    CHECK(behind.stats().dropped == 0);
  }
  SECTION("gives up after max_attempts") {
    f.store.failures_left = 100;
    auto behind = f.make(f.redis, {.batch_size = 10, .interval = 20ms, .max_attempts = 3});
    REQUIRE(f.sync(behind.put("k", json(1))).stored);
    f.drain(behind);
    CHECK(f.store.size() == 0);
    CHECK(behind.stats().failures == 3);
    CHECK(behind.stats().dropped == 1);
  }
}

TEST_CASE("write-behind with Redis down: writes still reach the store, the cache says it did not take them") {
  WriteBehindFixture f;
  auto behind = f.make(f.redis, {.batch_size = 10, .interval = 20ms});
  f.server.stop();
  REQUIRE(wait_until([&] { return !f.redis.is_connected(); }, 10s));
  const auto queued = f.sync(behind.put("k", json(1)));
  CHECK(queued.stored);
  CHECK_FALSE(queued.cached);
  f.drain(behind);
  CHECK(f.store.row("k") == json(1));
}

TEST_CASE("write-behind destroyed without drain: pending writes are dropped, nothing hangs or crashes") {
  WriteBehindFixture f;
  {
    auto behind = f.make(f.redis, {.batch_size = 100, .interval = 1h});
    REQUIRE(f.sync(behind.put("k", json(1))).stored);
  }
  f.app.join();  // returns: the flusher has ended
  CHECK(f.store.size() == 0);
}

TEST_CASE("write-behind in a scoped view caches under the view and hands the store the short key") {
  WriteBehindFixture f;
  auto tenant = f.redis.scoped("tenant:9:");
  auto behind = f.make(tenant, {.batch_size = 10, .interval = 20ms});
  REQUIRE(f.sync(behind.put("k", json(1))).cached);
  CHECK(f.sync(f.redis.exists("tenant:9:k")));
  f.drain(behind);
  CHECK(f.store.row("k") == json(1));
}
