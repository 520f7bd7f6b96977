// Scoped views: every command, script key, scan and invalidation stays under the view's prefix; a view
// cannot reach keys outside it; its codec, default TTL and cache statistics are its own; and it shares
// the manager's connections.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "plugins/redis/script.hpp"
#include "plugins/redis/recipes/invalidation.hpp"
#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "plugins/redis/recipes/dedupe_store.hpp"
#include "plugins/redis/recipes/distributed_lock.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// What the server holds, by full name, read through the unscoped manager.
std::vector<std::string> all_keys(RedisFixture& f) {
  auto found = f.sync(f.redis.command({"KEYS", "*"}));
  std::vector<std::string> names;
  for (const auto& element : found.reply.elements) names.push_back(element.text);
  std::sort(names.begin(), names.end());
  return names;
}

bool server_has(RedisFixture& f, const std::string& full_name) {
  return f.sync(f.redis.command({"EXISTS", full_name})).reply.as_integer() == 1;
}

long long connected_clients(RedisFixture& f) {
  const auto info = f.sync(f.redis.command({"INFO", "clients"})).reply.text;
  const auto at = info.find("connected_clients:");
  return std::stoll(info.substr(at + std::string("connected_clients:").size()));
}

}  // namespace

TEST_CASE("a view's commands of every kind write under its prefix, after the manager's") {
  RedisFixture f;
  auto tenant = f.redis.scoped("tenant:42:");
  CHECK(tenant.is_scoped());
  CHECK(tenant.key("x") == "test:tenant:42:x");

  CHECK(f.sync(tenant.set("s", "v")));
  CHECK(f.sync(tenant.incr("n")) == 1);
  CHECK(f.sync(tenant.hset("h", "f", "v")) == 1);
  CHECK(f.sync(tenant.rpush("l", {"a"})) == 1);
  CHECK(f.sync(tenant.sadd("set", {"a"})) == 1);
  CHECK(f.sync(tenant.zadd("z", {{1.0, "a"}})) == 1);
  CHECK(f.sync(tenant.mset({{"m1", "1"}, {"m2", "2"}})));
  CHECK(f.sync(tenant.set_json("j", json{{"a", 1}})));
  const redis::Script touch("redis.call('SET', KEYS[1], ARGV[1]) return 1");
  CHECK(f.sync(tenant.eval(touch, {"script"}, {"v"})).succeeded());

  CHECK(all_keys(f) == std::vector<std::string>{"test:tenant:42:h", "test:tenant:42:j", "test:tenant:42:l",
                                                "test:tenant:42:m1", "test:tenant:42:m2", "test:tenant:42:n",
                                                "test:tenant:42:s", "test:tenant:42:script", "test:tenant:42:set",
                                                "test:tenant:42:z"});
  // Reads through the view see them by their short names; the manager sees them by the long ones.
  CHECK(f.sync(tenant.get("s")) == "v");
  CHECK(f.sync(tenant.mget({"m1", "m2"})) == std::vector<std::optional<std::string>>{"1", "2"});
  CHECK(f.sync(f.redis.get("tenant:42:s")) == "v");
  CHECK_FALSE(f.sync(f.redis.get("s")));
  CHECK(f.sync(tenant.rename("s", "renamed")));
  CHECK(server_has(f, "test:tenant:42:renamed"));
}

TEST_CASE("views of views nest their prefixes") {
  RedisFixture f;
  auto device = f.redis.scoped("tenant:42:").scoped("device:7:");
  CHECK(f.sync(device.set("state", "on")));
  CHECK(server_has(f, "test:tenant:42:device:7:state"));
}

TEST_CASE("two tenants never see or delete each other's keys, whatever they pass") {
  RedisFixture f;
  auto a = f.redis.scoped("tenant:a:");
  auto b = f.redis.scoped("tenant:b:");
  for (const auto* name : {"x", "y", "user:1"}) {
    REQUIRE(f.sync(a.set(name, "a")));
    REQUIRE(f.sync(b.set(name, "b")));
  }
  REQUIRE(f.sync(f.redis.set("global", "g")));

  CHECK(f.sync(a.get("x")) == "a");
  CHECK(f.sync(b.get("x")) == "b");
  CHECK_FALSE(f.sync(a.get("global")));
  CHECK_FALSE(f.sync(a.get("../tenant:b:x")));  // a name is appended, never interpreted

  // Scans and pattern invalidation with the widest patterns stay inside.
  auto listed = f.sync(a.keys("*"));
  std::sort(listed.begin(), listed.end());
  CHECK(listed == std::vector<std::string>{"user:1", "x", "y"});
  CHECK(f.sync(redis::Invalidation(a).invalidate_pattern("*")) == 3);
  CHECK(f.sync(b.keys("*")).size() == 3);
  CHECK(f.sync(f.redis.exists("global")));

  CHECK(f.sync(redis::Invalidation(b).invalidate_prefix("")) == 3);
  CHECK(all_keys(f) == std::vector<std::string>{"test:global"});

  // del/unlink/exists of names that exist only elsewhere touch nothing.
  REQUIRE(f.sync(b.set("x", "b")));
  CHECK(f.sync(a.del({"x", "global", "tenant:b:x"})) == 0);
  CHECK(f.sync(a.exists("x")) == false);
  CHECK(f.sync(b.exists("x")));
}

TEST_CASE("a view whose prefix holds glob characters scans only itself") {
  RedisFixture f;
  auto star = f.redis.scoped("t*:");
  auto other = f.redis.scoped("tx:");
  REQUIRE(f.sync(star.set("k", "1")));
  REQUIRE(f.sync(other.set("k", "2")));
  CHECK(f.sync(star.keys("*")) == std::vector<std::string>{"k"});
  CHECK(f.sync(redis::Invalidation(star).invalidate_pattern("*")) == 1);
  CHECK(f.sync(other.get("k")) == "2");
}

TEST_CASE("tags in a view live in the view, and invalidating one removes only the view's keys") {
  RedisFixture f;
  auto a = f.redis.scoped("tenant:a:");
  auto b = f.redis.scoped("tenant:b:");
  REQUIRE(f.sync(redis::Invalidation(a).set_tagged("p1", "v", 60s, {"products"})));
  REQUIRE(f.sync(redis::Invalidation(b).set_tagged("p1", "v", 60s, {"products"})));
  CHECK(server_has(f, "test:tenant:a:tag:products"));
  CHECK(f.sync(redis::Invalidation(a).invalidate_tag("products")) == 1);
  CHECK_FALSE(f.sync(a.exists("p1")));
  CHECK(f.sync(b.exists("p1")));
}

TEST_CASE("raw access, which could name any key, is refused on a view and counted as nothing sent") {
  RedisFixture f;
  auto tenant = f.redis.scoped("tenant:1:");
  const auto refused = f.sync(tenant.command({"GET", "test:global"}));
  CHECK(refused.failure == redis::Failure::refused);
  CHECK(refused.error_text().find("scoped view") != std::string::npos);
  redis::Batch batch;
  batch.push({"DEL", "test:global"});
  const auto pipelined = f.sync(tenant.pipeline(batch));
  REQUIRE(pipelined.size() == 1);
  CHECK(pipelined[0].failure == redis::Failure::refused);
  CHECK(f.sync(tenant.transaction(batch)).failure == redis::Failure::refused);
}

TEST_CASE("a view can have its own default TTL and codec, and keeps the manager's when they are unset") {
  RedisFixture f;
  auto short_lived = f.redis.scoped("s:", {.default_ttl = 30s});
  REQUIRE(f.sync(short_lived.set("k", "v")));
  const auto ttl = f.sync(short_lived.ttl("k"));
  CHECK(ttl > 0);
  CHECK(ttl <= 30);
  REQUIRE(f.sync(f.redis.set("k", "v")));
  CHECK(f.sync(f.redis.ttl("k")) == -1);  // the manager has no default TTL

  auto packed = f.redis.scoped("p:", {.codec = redis::codec::msgpack()});
  CHECK(packed.codec().name == "msgpack");
  CHECK(packed.scoped("inner:").codec().name == "msgpack");  // inherited by views of the view
  CHECK(f.redis.codec().name == "json");
  REQUIRE(f.sync(redis::CodecValues(packed).set("v", json{{"a", 1}})));
  CHECK(f.sync(packed.get("v")) == std::string("\x81\xa1" "a\x01", 4));  // {"a": 1} in MessagePack
  CHECK(f.sync(redis::CodecValues(packed).get("v")).value == json{{"a", 1}});
}

TEST_CASE("remember in views: per-scope statistics, totals on the manager, no sharing across scopes") {
  RedisFixture f;
  auto a = f.redis.scoped("tenant:a:");
  auto b = f.redis.scoped("tenant:b:");
  int loads = 0;
  auto loader = [&loads]() -> awaitable<json> { co_return json(++loads); };
  CHECK(f.sync(redis::CacheAside(a).remember("report", {.ttl = 60s}, loader)).value == json(1));
  CHECK(f.sync(redis::CacheAside(a).remember("report", {.ttl = 60s}, loader)).source == redis::Remembered::Source::cache);
  CHECK(f.sync(redis::CacheAside(b).remember("report", {.ttl = 60s}, loader)).value == json(2));  // b's own value
  CHECK(a.cache_stats().hits == 1);
  CHECK(a.cache_stats().misses == 1);
  CHECK(b.cache_stats().hits == 0);
  CHECK(b.cache_stats().misses == 1);
  CHECK(f.redis.cache_stats().misses == 0);  // the manager's own calls: none
  CHECK(f.redis.cache_stats_all_scopes().misses == 2);
  CHECK(f.redis.cache_stats_all_scopes().hits == 1);
  CHECK(a.cache_stats().hit_rate() == Approx(0.5));
  CHECK(b.cache_stats().hit_rate() == Approx(0.0));
}

TEST_CASE("a stale value served through a view made for one call is reloaded after the view is gone") {
  RedisFixture f;
  int loads = 0;
  auto loader = [&loads]() -> awaitable<json> { co_return json(++loads); };
  const redis::RememberOptions options{.ttl = 1s, .stale_while_revalidate = 30s};
  auto through_a_new_view = [&] {
    auto view = f.redis.scoped("t:");  // gone when this returns
    return f.sync(redis::CacheAside(view).remember("k", options, loader));
  };
  REQUIRE(through_a_new_view().value == json(1));
  REQUIRE(wait_until([&] { return f.sync(f.redis.pttl("t:k")) <= 30'000; }, 10s));
  CHECK(through_a_new_view().source == redis::Remembered::Source::stale);
  CHECK(wait_until([&] { return f.sync(f.redis.get("t:k")) == "2"; }, 10s));
}

TEST_CASE("views share the manager's connections: a thousand of them open none") {
  RedisFixture f;
  const auto before = connected_clients(f);
  std::vector<redis::RedisManager> views;
  for (int i = 0; i < 1000; ++i) views.push_back(f.redis.scoped("tenant:" + std::to_string(i) + ":"));
  for (auto& view : views) REQUIRE(f.sync(view.set("k", "v")));
  CHECK(connected_clients(f) == before);
  CHECK(f.sync(f.redis.keys("tenant:*")).size() == 1000);
}

TEST_CASE("a view degrades like its manager when Redis is down") {
  RedisFixture f;
  auto tenant = f.redis.scoped("tenant:1:");
  f.server.stop();
  REQUIRE(wait_until([&] { return !tenant.is_connected(); }, 10s));
  CHECK_FALSE(f.sync(tenant.set("k", "v")));
  CHECK_FALSE(f.sync(tenant.get("k")));
  CHECK(f.sync(tenant.del({"k"})) == 0);
  CHECK(f.sync(tenant.keys("*")).empty());
  CHECK(f.sync(redis::Invalidation(tenant).invalidate_prefix("")) == 0);
  CHECK(f.sync(tenant.ttl("k")) == -2);
}

TEST_CASE("recipes keep the view they were given alive: a lock renews and releases, a dedupe claim is released, after the view is gone") {
  RedisFixture f;
  using redis::DistributedLock;
  std::optional<DistributedLock> lock;
  std::optional<redis::DedupeStore::Claim> claim;
  std::optional<redis::DedupeStore> store;
  {
    auto view = f.redis.scoped("tenant:7:");  // made for one message, gone at its end
    lock.emplace(f.sync(DistributedLock::acquire(view, "job", {.ttl = 300ms})));
    store.emplace(view, redis::DedupeStore::Options{.window = 60s, .lease = 60s});
    claim = f.sync(store->claim("m1"));
  }
  REQUIRE(lock->acquired());
  REQUIRE(claim->outcome == redis::DedupeStore::Outcome::first);
  // Renewed again and again on the view's handle, under its prefix: the TTL goes back up each time.
  auto pttl = [&] { return std::stoll(f.server.command({"PTTL", "test:tenant:7:lock:{job}"}).substr(1)); };
  int renewals = 0;
  bool expired = false;
  auto last = pttl();
  REQUIRE(wait_until([&] {
    const auto now = pttl();
    expired = expired || now < 0;
    renewals += now > last;
    last = now;
    return renewals >= 4 || expired;
  }, 5s));
  CHECK_FALSE(expired);
  CHECK_FALSE(lock->lost());
  lock.reset();  // released in the background, on the handle
  CHECK(wait_until([&] { return f.server.command({"EXISTS", "test:tenant:7:lock:{job}"}) == ":0\r\n"; }, 5s));

  store->release(*claim);
  store.reset();
  CHECK(wait_until([&] { return f.server.command({"EXISTS", "test:tenant:7:dd:{m1}"}) == ":0\r\n"; }, 5s));
}
