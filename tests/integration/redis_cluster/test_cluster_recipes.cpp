// The recipes on a real Redis Cluster, with keys spread over every master: each keeps its keys in
// one slot (or one key), so each runs as on one Redis. Tags are the exception: refused across slots.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>

#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "plugins/redis/recipes/dedupe_store.hpp"
#include "plugins/redis/recipes/distributed_lock.hpp"
#include "plugins/redis/recipes/rate_limiter.hpp"
#include "tests/integration/redis_cluster/cluster_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

TEST_CASE("cluster recipes: rate limits, locks, dedupe and remember over keys on every master") {
  redis::RedisManager r(cluster_config("recipes:"));
  wait_all_masters(r);
  redis::RateLimiter limiter(r, {.rate = 5, .period = 60s, .burst = 5, .strategy = redis::RateLimitStrategy::gcra});
  redis::DedupeStore dedupe(r, {.window = 60s, .lease = 5s});
  auto loads = std::make_shared<std::atomic<int>>(0);
  const redis::Loader loader = [loads]() -> awaitable<nlohmann::json> { co_return nlohmann::json{{"n", ++*loads}}; };
  for (int device = 0; device < 30; ++device) {  // 30 keys of each kind: every master serves some
    const auto id = "device-" + std::to_string(device);
    int allowed = 0;
    for (int i = 0; i < 8; ++i) allowed += r.run_sync(limiter.check(id)).value().allowed;
    CHECK(allowed == 5);

    auto lock = r.run_sync(redis::DistributedLock::acquire(r, "lock:" + id, {.ttl = 5s, .renew = false}));
    CHECK(lock.acquired());
    CHECK(r.run_sync(redis::DistributedLock::acquire(r, "lock:" + id, {.ttl = 5s, .renew = false})).outcome() ==
          redis::DistributedLock::Outcome::busy);
    CHECK(r.run_sync(lock.release()));

    const auto claim = r.run_sync(dedupe.claim("msg:" + id));
    CHECK(claim.outcome == redis::DedupeStore::Outcome::first);
    CHECK(r.run_sync(dedupe.done(claim)));
    CHECK(r.run_sync(dedupe.claim("msg:" + id)).outcome == redis::DedupeStore::Outcome::duplicate);

    redis::CacheAside cache(r);
    r.run_sync(cache.remember("profile:" + id, {.ttl = 60s}, loader));
    CHECK(r.run_sync(cache.remember("profile:" + id, {.ttl = 60s}, loader)).source == redis::Remembered::Source::cache);
  }
  CHECK(loads->load() == 30);  // one load per key, the second call a hit
}

TEST_CASE("cluster recipes: tags across slots are refused, tags within one hash tag work") {
  redis::RedisManager r(cluster_config("tagged:"));
  wait_all_masters(r);
  redis::CodecValues values(r);
  CHECK(r.run_sync(values.set("{team:1}:a", nlohmann::json{{"v", 1}}, 60s, {"{team:1}:members"})));
  CHECK_FALSE(r.run_sync(values.set("foo", nlohmann::json{{"v", 2}}, 60s, {"bar"})));  // value and tag set apart
}
