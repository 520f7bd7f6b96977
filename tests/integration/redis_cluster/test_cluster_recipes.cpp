// The recipes on a real Redis Cluster, with keys spread over every master: each keeps its keys in
// one slot (or one key), so each runs as on one Redis. Tags are the exception: a tag's set and the
// keys it names live on different masters (tag_index.hpp says how invalidation still finds them all).
#include <catch2/catch.hpp>

#include <atomic>
#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "plugins/redis/recipes/dedupe_store.hpp"
#include "plugins/redis/recipes/distributed_lock.hpp"
#include "plugins/redis/recipes/invalidation.hpp"
#include "plugins/redis/recipes/tag_index.hpp"
#include "plugins/redis/recipes/rate_limiter.hpp"
#include "plugins/redis/recipes/session_store.hpp"
#include "plugins/redis/recipes/values_with_metadata.hpp"
#include "plugins/redis/recipes/write_behind.hpp"
#include "plugins/redis/recipes/write_through.hpp"
#include "plugins/redis/cluster/hash_slot.hpp"
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

TEST_CASE("cluster recipes: sessions, values with metadata, write-through and write-behind (tagged) on every master") {
  redis::RedisManager r(cluster_config("stores:"));
  wait_all_masters(r);
  std::set<std::uint16_t> masters_used;
  for (int i = 0; i < 20; ++i) masters_used.insert(RedisCluster::shared().master_port_of(redis::hash_slot("stores:d" + std::to_string(i))));
  REQUIRE(masters_used.size() == 3);

  redis::SessionStore sessions(r, {.ttl = 1h});
  redis::ValuesWithMetadata described(r);
  for (int i = 0; i < 20; ++i) {
    const auto id = "d" + std::to_string(i);
    CHECK(r.run_sync(sessions.create(id, {{"owner", "ops"}})).status == redis::SaveStatus::saved);
    CHECK(r.run_sync(sessions.update(id, [](redis::Session& s) { s.incr("logins"); })).version == 2);
    CHECK(r.run_sync(described.set("meta:" + id, nlohmann::json{{"v", i}}, nlohmann::json{{"source", "test"}}, 60s)));
    const auto read = r.run_sync(described.get("meta:" + id));
    CHECK(read.value == nlohmann::json{{"v", i}});
    CHECK(read.metadata == nlohmann::json{{"source", "test"}});
  }
  CHECK(r.run_sync(sessions.list()).size() == 20);  // listed from every master

  std::mutex store_mutex;
  std::map<std::string, nlohmann::json> store;
  const redis::BatchWriter writer = [&](const std::vector<redis::PendingWrite>& batch) -> awaitable<void> {
    std::lock_guard lock(store_mutex);
    for (const auto& write : batch) store[write.key] = write.value;
    co_return;
  };
  CHECK(r.run_sync(redis::WriteThrough(r).put("through:1", nlohmann::json(1), 60s,
                                                [](const nlohmann::json&) -> awaitable<void> { co_return; })).cached);
  asio::thread_pool app(1);
  {
    redis::WriteBehind behind(r, app.get_executor(), {.batch_size = 10, .interval = 50ms}, writer);
    for (int i = 0; i < 20; ++i) {
      const auto queued = r.run_sync(behind.put("behind:d" + std::to_string(i), nlohmann::json{{"i", i}}, 60s, {"fleet"}));
      CHECK((queued.stored && queued.cached));
    }
    asio::co_spawn(app, behind.drain(), asio::use_future).get();
  }
  app.join();
  CHECK(store.size() == 20);
  CHECK(r.run_sync(redis::Invalidation(r).invalidate_tag("fleet")) == 20);  // cached on every master, all found
}

TEST_CASE("cluster recipes: tags name keys on every master, invalidate_tag removes them all") {
  redis::RedisManager r(cluster_config("tagged:"));
  wait_all_masters(r);
  redis::Invalidation cache(r);
  redis::CodecValues values(r);
  std::set<std::uint16_t> masters_used;
  for (int i = 0; i < 30; ++i) {
    const auto id = std::to_string(i);
    masters_used.insert(RedisCluster::shared().master_port_of(redis::hash_slot("tagged:product:" + id)));
    REQUIRE(r.run_sync(cache.set_tagged("product:" + id, "p" + id, 60s, {"products", i % 2 ? "odd" : "even"})));
  }
  REQUIRE(masters_used.size() == 3);
  REQUIRE(r.run_sync(r.hset("stock:1", "count", "3")));
  CHECK(r.run_sync(cache.tag("stock:1", {"products"})));
  CHECK_FALSE(r.run_sync(cache.tag("missing", {"products"})));
  CHECK(r.run_sync(values.set("{team:1}:a", nlohmann::json{{"v", 1}}, 60s, {"{team:1}:members"})));  // one slot: one script
  CHECK(r.run_sync(values.set("orphan", nlohmann::json{{"v", 2}}, 60s, {"products"})));

  // The tag sets live no shorter than what they name (the value is written after them).
  const auto set_left = r.run_sync(r.pttl(redis::tag_key("even")));
  CHECK((set_left > 60'000 && set_left <= 61'000));

  CHECK(r.run_sync(cache.invalidate_tag("odd")) == 15);
  CHECK(r.run_sync(r.exists("product:1")) == false);
  CHECK(r.run_sync(r.exists("product:0")));
  CHECK(r.run_sync(cache.invalidate_tag("products")) == 17);  // 15 even products, the hash and orphan
  CHECK(r.run_sync(r.keys("product:*")).empty());
  CHECK(r.run_sync(r.exists("stock:1")) == false);
  CHECK(r.run_sync(r.exists(redis::tag_key("products"))) == false);
  CHECK(r.run_sync(cache.invalidate_tag("{team:1}:members")) == 1);
}

// set_tagged racing invalidate_tag of the same tag: whatever the interleaving, no value survives
// that its tag set does not name.
TEST_CASE("cluster recipes: values stored while their tag is invalidated are named by it or gone") {
  redis::RedisManager r(cluster_config("tagrace:"));
  redis::RedisManager other(cluster_config("tagrace:"));  // another app instance: its own connections
  wait_all_masters(r);
  wait_all_masters(other);
  redis::Invalidation cache(r);
  constexpr int writers = 40;
  std::atomic<int> stored = 0;
  std::atomic<int> writers_done = 0;
  std::vector<std::future<void>> writing;
  for (int w = 0; w < writers; ++w)
    writing.push_back(std::async(std::launch::async, [&, w] {
      for (int i = 0; i < 25; ++i)
        if (r.run_sync(cache.set_tagged("v:" + std::to_string(w) + ":" + std::to_string(i), "x", 60s, {"hot"}))) ++stored;
      ++writers_done;
    }));
  // Each invalidation follows at least one newly stored value, so both sides happen however the
  // machine schedules them (a free-running invalidator on a loaded machine once took every value
  // before its check). The writers end by themselves: the loop is bounded by them.
  long long removed_while_writing = 0;
  int stored_when_invalidated = 0;
  for (;;) {
    REQUIRE(wait_until([&] { return stored > stored_when_invalidated || writers_done == writers; }, 60s, 1ms));
    if (stored == stored_when_invalidated) break;
    stored_when_invalidated = stored;
    removed_while_writing += other.run_sync(redis::Invalidation(other).invalidate_tag("hot"));
  }
  for (auto& writer : writing) writer.get();
  CHECK(removed_while_writing > 0);
  CHECK(stored > 0);
  const auto left = r.run_sync(r.keys("v:*"));
  const auto named = r.run_sync(r.smembers(redis::tag_key("hot")));
  for (const auto& key : left) CHECK(std::count(named.begin(), named.end(), r.key(key)) == 1);
  CHECK(r.run_sync(cache.invalidate_tag("hot")) == static_cast<long long>(left.size()));
  CHECK(r.run_sync(r.keys("v:*")).empty());
}

// The step that closes the race above, made to happen: the tag's set is taken (and its keys
// unlinked) after it named the value but before the value was stored. The check after storing
// finds the set no longer names it, and removes the value again.
TEST_CASE("cluster recipes: a tag invalidated between naming a value and storing it takes the value too") {
  auto config = cluster_config("tagstep:");
  config.socket_timeout_s = 10;  // the SET waits out the pause below, however loaded the machine
  redis::RedisManager r(config);
  wait_all_masters(r);
  auto& cluster = RedisCluster::shared();
  const auto set_key = "tagstep:" + redis::tag_key("t");
  const auto set_port = cluster.master_port_of(redis::hash_slot(set_key));
  std::string name;
  for (int i = 0; name.empty(); ++i)  // a value on another master than its tag's set
    if (cluster.master_port_of(redis::hash_slot("tagstep:item" + std::to_string(i))) != set_port) name = "item" + std::to_string(i);
  auto* value_master = cluster.node_on(cluster.master_port_of(redis::hash_slot("tagstep:" + name)));
  auto* set_master = cluster.node_on(set_port);
  REQUIRE((value_master && set_master));

  // The value's master holds clients' writes back (CLIENT PAUSE WRITE: unlike SIGSTOP, its cluster
  // bus goes on, so however long a loaded machine takes, no failover starts).
  REQUIRE(value_master->command({"CLIENT", "PAUSE", "10000", "WRITE"}) == "+OK\r\n");
  auto storing = std::async(std::launch::async, [&] {
    return r.run_sync(redis::Invalidation(r).set_tagged(name, "x", 60s, {"t"}));
  });
  const bool named = wait_until([&] { return set_master->command({"SISMEMBER", set_key, "tagstep:" + name}) == ":1\r\n"; },
                                std::chrono::seconds(5), std::chrono::milliseconds(2));
  set_master->command({"DEL", set_key});  // invalidate_tag took the set; its UNLINK found no value yet
  value_master->command({"CLIENT", "UNPAUSE"});
  CHECK(named);
  CHECK_FALSE(storing.get());
  CHECK_FALSE(r.run_sync(r.exists(name)));
}
