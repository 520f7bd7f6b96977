// CacheAside::remember: cache-aside with one load per key in a process (shared by every CacheAside on
// the manager), stale-while-revalidate, and what it does when the loader fails, the stored value is
// not JSON, or Redis is away.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <stdexcept>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;
using nlohmann::json;
using Source = redis::Remembered::Source;

namespace {

// A loader that counts its calls and answers {"n": <call number>}, after `delay`.
redis::Loader counting_loader(std::shared_ptr<std::atomic<int>> calls, std::chrono::milliseconds delay = 0ms) {
  return [calls, delay]() -> awaitable<json> {
    const int n = ++*calls;
    if (delay > 0ms) {
      asio::steady_timer timer(co_await asio::this_coro::executor, delay);
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return json{{"n", n}};
  };
}

}  // namespace

TEST_CASE("remember: a miss runs the loader and stores its value under the prefix, the next call is a hit") {
  RedisFixture f;
  auto calls = std::make_shared<std::atomic<int>>(0);

  const auto first = f.sync(redis::CacheAside(f.redis).remember("user:42", {.ttl = 60s}, counting_loader(calls)));
  CHECK(first.source == Source::loaded);
  REQUIRE(first.value);
  CHECK(*first.value == json{{"n", 1}});
  CHECK(first.error.empty());

  const auto stored = f.sync(f.redis.command({"GET", "test:user:42"}));
  CHECK(stored.reply.text == R"({"n":1})");
  const auto ttl = f.sync(f.redis.ttl("user:42"));
  CHECK(ttl > 0);
  CHECK(ttl <= 60);

  const auto second = f.sync(redis::CacheAside(f.redis).remember("user:42", {.ttl = 60s}, counting_loader(calls)));
  CHECK(second.source == Source::cache);
  CHECK(second.value == first.value);
  CHECK(*calls == 1);
  CHECK(f.redis.cache_stats().hits == 1);
  CHECK(f.redis.cache_stats().misses == 1);
  CHECK(f.redis.cache_stats().loads == 1);
}

TEST_CASE("remember: concurrent misses on two threads share one load") {
  RedisFixture f;
  auto calls = std::make_shared<std::atomic<int>>(0);
  asio::thread_pool callers(2);
  std::vector<std::future<redis::Remembered>> results;
  constexpr int concurrent = 20;
  for (int i = 0; i < concurrent; ++i)
    results.push_back(asio::co_spawn(callers, redis::CacheAside(f.redis).remember("report", {.ttl = 60s}, counting_loader(calls, 300ms)),
                                     asio::use_future));
  int loaded = 0, shared = 0, cached = 0;
  for (auto& result : results) {
    const auto r = result.get();
    REQUIRE(r.value);
    CHECK(*r.value == json{{"n", 1}});
    loaded += r.source == Source::loaded;
    shared += r.source == Source::shared_load;
    cached += r.source == Source::cache;
  }
  callers.join();
  CHECK(*calls == 1);
  CHECK(loaded == 1);
  CHECK(shared + cached == concurrent - 1);
  CHECK(shared > 0);
}

TEST_CASE("remember: stale-while-revalidate serves the stale value at once, then the reloaded one") {
  RedisFixture f;
  auto calls = std::make_shared<std::atomic<int>>(0);
  const redis::RememberOptions options{.ttl = 1s, .stale_while_revalidate = 30s};

  CHECK(f.sync(redis::CacheAside(f.redis).remember("price", options, counting_loader(calls))).source == Source::loaded);
  CHECK(f.sync(f.redis.ttl("price")) > 1);  // kept for ttl + the stale window

  // Once the fresh second has passed, the value is stale but still there.
  REQUIRE(wait_until([&] { return f.sync(f.redis.pttl("price")) <= 30'000; }, 10s));
  const auto stale = f.sync(redis::CacheAside(f.redis).remember("price", options, counting_loader(calls)));
  CHECK(stale.source == Source::stale);
  CHECK(*stale.value == json{{"n", 1}});

  // The background reload stores the next value, which is then served fresh.
  REQUIRE(wait_until([&] { return f.sync(f.redis.get_json("price")).value == json{{"n", 2}}; }, 10s));
  const auto fresh = f.sync(redis::CacheAside(f.redis).remember("price", options, counting_loader(calls)));
  CHECK(fresh.source == Source::cache);
  CHECK(*fresh.value == json{{"n", 2}});
  CHECK(*calls == 2);
  CHECK(f.redis.cache_stats().stale_hits == 1);
}

TEST_CASE("remember: a failing loader is reported to every waiter, nothing is stored, the next call loads again") {
  RedisFixture f;
  auto failing = []() -> awaitable<json> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 200ms);
    co_await timer.async_wait(asio::use_awaitable);
    throw std::runtime_error("database down");
  };
  asio::thread_pool callers(2);
  std::vector<std::future<redis::Remembered>> results;
  for (int i = 0; i < 5; ++i)
    results.push_back(asio::co_spawn(callers, redis::CacheAside(f.redis).remember("k", {.ttl = 60s}, failing), asio::use_future));
  for (auto& result : results) {
    const auto r = result.get();
    CHECK(r.source == Source::failed);
    CHECK_FALSE(r.value);
    CHECK(r.error.find("database down") != std::string::npos);
  }
  callers.join();
  CHECK(f.sync(f.redis.exists("k")) == false);
  CHECK(f.redis.cache_stats().load_failures == 1);

  auto calls = std::make_shared<std::atomic<int>>(0);
  CHECK(f.sync(redis::CacheAside(f.redis).remember("k", {.ttl = 60s}, counting_loader(calls))).source == Source::loaded);
}

TEST_CASE("remember: a cached value that is not JSON is reloaded and overwritten, and said so") {
  RedisFixture f;
  REQUIRE(f.sync(f.redis.set("broken", "{not json")));
  auto calls = std::make_shared<std::atomic<int>>(0);
  const auto r = f.sync(redis::CacheAside(f.redis).remember("broken", {.ttl = 60s}, counting_loader(calls)));
  CHECK(r.source == Source::loaded);
  CHECK(*r.value == json{{"n", 1}});
  CHECK(r.error.find("not valid JSON") != std::string::npos);
  CHECK(f.sync(f.redis.get_json("broken")).value == json{{"n", 1}});
}

TEST_CASE("remember: a loader's null is returned and not stored, unless cache_null asks for negative caching") {
  RedisFixture f;
  auto calls = std::make_shared<std::atomic<int>>(0);
  redis::Loader not_found = [calls]() -> awaitable<json> {
    ++*calls;
    co_return json(nullptr);
  };

  const auto first = f.sync(redis::CacheAside(f.redis).remember("user:missing", {.ttl = 60s}, not_found));
  CHECK(first.source == Source::loaded);
  REQUIRE(first.value);
  CHECK(first.value->is_null());
  CHECK_FALSE(f.sync(f.redis.exists("user:missing")));  // a "not found" is not kept: the row may come
  const auto again = f.sync(redis::CacheAside(f.redis).remember("user:missing", {.ttl = 60s}, not_found));
  CHECK(again.source == Source::loaded);
  CHECK(*calls == 2);

  const auto negative = redis::RememberOptions{.ttl = 60s, .cache_null = true};
  CHECK(f.sync(redis::CacheAside(f.redis).remember("user:gone", negative, not_found)).source == Source::loaded);
  CHECK(f.sync(f.redis.command({"GET", "test:user:gone"})).reply.text == "null");
  const auto cached = f.sync(redis::CacheAside(f.redis).remember("user:gone", negative, not_found));
  CHECK(cached.source == Source::cache);
  REQUIRE(cached.value);
  CHECK(cached.value->is_null());
  CHECK(*calls == 3);
}

TEST_CASE("remember: with Redis disabled or down the loader's value is returned every time") {
  auto calls = std::make_shared<std::atomic<int>>(0);
  SECTION("disabled") {
    redis::RedisManager disabled{redis::RedisConfig{}};  // ENABLE_REDIS unset: disabled
    const auto r = disabled.run_sync(redis::CacheAside(disabled).remember("k", {.ttl = 60s}, counting_loader(calls)));
    CHECK(r.source == Source::loaded);
    CHECK(*r.value == json{{"n", 1}});
    CHECK(disabled.run_sync(redis::CacheAside(disabled).remember("k", {.ttl = 60s}, counting_loader(calls))).source == Source::loaded);
    CHECK(*calls == 2);
  }
  SECTION("down") {
    RedisFixture f;
    f.server.stop();
    REQUIRE(wait_until([&] { return !f.redis.is_connected(); }, 10s));
    const auto r = f.sync(redis::CacheAside(f.redis).remember("k", {.ttl = 60s}, counting_loader(calls)));
    CHECK(r.source == Source::loaded);
    CHECK(*r.value == json{{"n", 1}});
  }
}

TEST_CASE("remember: a manager destroyed while its background reload runs on its own io thread ends cleanly") {
  RedisFixture observer;  // its own server; counts the clients of that server
  auto clients = [&] {
    const auto info = observer.sync(observer.redis.command({"INFO", "clients"})).reply.text;
    const auto at = info.find("connected_clients:") + std::string("connected_clients:").size();
    return std::stoll(info.substr(at));
  };
  const auto baseline = clients();
  auto manager = std::make_unique<redis::RedisManager>(redis_config_for(observer.server.port()));
  manager->initialize();
  REQUIRE(manager->wait_connected(10s));
  REQUIRE(clients() > baseline);

  const redis::RememberOptions options{.ttl = 1s, .stale_while_revalidate = 30s};
  auto release = std::make_shared<std::promise<void>>();
  auto released = release->get_future().share();
  auto slow_loader = [released]() -> awaitable<json> {
    while (released.wait_for(0s) != std::future_status::ready) {  // a bounded wait: the test releases it
      asio::steady_timer timer(co_await asio::this_coro::executor, 5ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return json("fresh");
  };
  auto first = []() -> awaitable<json> { co_return json("old"); };
  REQUIRE(manager->run_sync(redis::CacheAside(*manager).remember("k", options, first)).source == Source::loaded);
  REQUIRE(wait_until([&] { return manager->run_sync(manager->pttl("k")) <= 30'000; }, 10s));
  // run_sync runs on the manager's io thread, so the reload is spawned there.
  REQUIRE(manager->run_sync(redis::CacheAside(*manager).remember("k", options, slow_loader)).source == Source::stale);
  manager.reset();  // the reload still holds the connections
  release->set_value();
  CHECK(wait_until([&] { return observer.sync(observer.redis.get("k")) == R"("fresh")"; }, 10s));
  CHECK(wait_until([&] { return clients() == baseline; }, 10s));  // and then they were closed
}
