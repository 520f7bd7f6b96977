// Sessions offered to handlers: create/get/update/remove/list, versions, conflicts, limits, expiry.
#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "plugins/redis/recipes/session_store.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

TEST_CASE("sessions: create, get, update, remove and list") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis, {.ttl = 1h});

  auto missing = f.sync(sessions.get("dev-1"));
  REQUIRE(missing);  // available, just not there
  CHECK_FALSE(missing->exists());
  CHECK(missing->fields().empty());

  const auto created = f.sync(sessions.create("dev-1", {{"owner", "ops"}, {"zone", "b"}}));
  CHECK(created.status == redis::SaveStatus::saved);
  CHECK(created.version == 1);
  CHECK(f.sync(sessions.create("dev-1", {{"owner", "someone else"}})).status == redis::SaveStatus::conflict);

  auto loaded = f.sync(sessions.get("dev-1"));
  REQUIRE(loaded);
  CHECK(loaded->exists());
  CHECK(loaded->version() == 1);
  CHECK(loaded->get("owner") == "ops");  // the failed create changed nothing

  const auto updated = f.sync(sessions.update("dev-1", [](redis::Session& s) {
    s.incr("logins");
    s.erase("zone");
  }));
  CHECK(updated.status == redis::SaveStatus::saved);
  CHECK(updated.version == 2);
  auto after = f.sync(sessions.get("dev-1"));
  CHECK(after->fields() == std::map<std::string, std::string>{{"logins", "1"}, {"owner", "ops"}});
  CHECK(f.sync(sessions.update("dev-1", [](redis::Session&) {})).status == redis::SaveStatus::unchanged);

  // Stored as one hash under the prefix, with its version and an expiry.
  CHECK(f.server.command({"HGET", "test:session:{dev-1}", "__version"}) == "$1\r\n2\r\n");
  const auto ttl = f.sync(f.redis.ttl("session:{dev-1}"));
  CHECK(ttl > 3000);
  CHECK(ttl <= 3600);

  CHECK(f.sync(sessions.create("dev-2", {{"a", "1"}})).ok());
  CHECK(f.sync(sessions.create("gw-1", {{"a", "1"}})).ok());
  auto ids = f.sync(sessions.list("dev-*"));
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"dev-1", "dev-2"});

  CHECK(f.sync(sessions.remove("dev-1")));
  CHECK_FALSE(f.sync(sessions.remove("dev-1")));
  CHECK_FALSE(f.sync(sessions.get("dev-1"))->exists());
}

TEST_CASE("sessions: a stale save is re-applied on the newer state, never lost") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis);
  REQUIRE(f.sync(sessions.create("d", {{"count", "0"}})).ok());
  auto first = *f.sync(sessions.get("d"));
  auto second = *f.sync(sessions.get("d"));
  first.incr("count");
  first.set("by", "first");
  second.incr("count", 10);
  CHECK(f.sync(sessions.save("d", first)).status == redis::SaveStatus::saved);
  const auto late = f.sync(sessions.save("d", second));  // loaded version 1, stored is 2 now
  CHECK(late.status == redis::SaveStatus::saved);
  CHECK(late.version == 3);
  auto stored = f.sync(sessions.get("d"));
  CHECK(stored->get("count") == "11");
  CHECK(stored->get("by") == "first");

  redis::SessionStore no_retries(f.redis, {.retries = 0});
  auto stale = *f.sync(no_retries.get("d"));
  REQUIRE(f.sync(no_retries.update("d", [](redis::Session& s) { s.set("x", "1"); })).ok());
  stale.set("x", "2");
  CHECK(f.sync(no_retries.save("d", stale)).status == redis::SaveStatus::conflict);
  CHECK(f.sync(sessions.get("d"))->get("x") == "1");
}

TEST_CASE("sessions: concurrent updates from many threads all count") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis, {.retries = 100});
  std::vector<std::thread> threads;
  std::atomic<int> not_saved{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i)
        if (!f.redis.run_sync(sessions.update("shared", [](redis::Session& s) { s.incr("n"); })).ok()) ++not_saved;
    });
  for (auto& thread : threads) thread.join();
  CHECK(not_saved == 0);
  CHECK(f.sync(sessions.get("shared"))->get("n") == "40");
}

TEST_CASE("sessions: limits are checked before writing") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis, {.max_fields = 2, .max_value_bytes = 4});
  const auto wide = f.sync(sessions.create("d", {{"a", "1"}, {"b", "2"}, {"c", "3"}}));
  CHECK(wide.status == redis::SaveStatus::too_large);
  CHECK_THAT(wide.problem, Catch::Contains("3 fields (max_fields 2)"));
  const auto big = f.sync(sessions.create("d", {{"a", "12345"}}));
  CHECK(big.status == redis::SaveStatus::too_large);
  CHECK_THAT(big.problem, Catch::Contains("field 'a' has 5 bytes"));
  CHECK_FALSE(f.sync(sessions.get("d"))->exists());  // nothing written
}

TEST_CASE("sessions with Redis unavailable: get is nullopt, writes say unavailable, ephemeral sessions are never saved") {
  redis::RedisManager disabled{redis::RedisConfig{}};
  redis::SessionStore sessions(disabled);
  CHECK_FALSE(disabled.run_sync(sessions.get("d")));
  CHECK(disabled.run_sync(sessions.create("d", {{"a", "1"}})).status == redis::SaveStatus::unavailable);
  CHECK(disabled.run_sync(sessions.update("d", [](redis::Session& s) { s.set("a", "1"); })).status ==
        redis::SaveStatus::unavailable);
  CHECK_FALSE(disabled.run_sync(sessions.remove("d")));
  CHECK(disabled.run_sync(sessions.list()).empty());
  auto ephemeral = redis::Session::make_ephemeral();
  ephemeral.set("a", "1");
  CHECK(disabled.run_sync(sessions.save("d", ephemeral)).status == redis::SaveStatus::ephemeral);
}

TEST_CASE("sessions: a field named like an internal one is stored escaped and breaks nothing") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis);
  REQUIRE(f.sync(sessions.create("dev-9", {{"__version", "mine"}, {"__ttl", "1"}, {"___x", "three"}})).ok());
  auto loaded = f.sync(sessions.get("dev-9"));
  REQUIRE(loaded);
  CHECK(loaded->version() == 1);
  CHECK(loaded->get("__version") == "mine");
  CHECK(loaded->get("__ttl") == "1");
  CHECK(loaded->get("___x") == "three");
  CHECK(loaded->fields().size() == 3);
  REQUIRE(f.sync(sessions.update("dev-9", [](redis::Session& s) { s.set("__version", "still mine"); })).ok());
  CHECK(f.sync(sessions.get("dev-9"))->version() == 2);
  CHECK(f.server.command({"HGET", "test:session:{dev-9}", "__version"}) == "$1\r\n2\r\n");
}

TEST_CASE("sessions: generated ids, nested JSON values, a TTL of its own, sliding or fixed expiry") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis, {.ttl = std::chrono::hours(1)});
  const auto created = f.sync(sessions.create({{"owner", "ops"}}, std::chrono::minutes(2)));
  REQUIRE(created.result.ok());
  CHECK(created.id.size() == 32);
  const auto key = "session:{" + created.id + "}";
  CHECK(f.sync(f.redis.pttl(key)) <= 120'000);
  REQUIRE(f.sync(f.redis.pexpire(key, 60'000ms)));
  REQUIRE(f.sync(sessions.get(created.id)));  // sliding: back to its own two minutes, not the store's hour
  CHECK(f.sync(f.redis.pttl(key)) > 100'000);
  CHECK(f.sync(f.redis.pttl(key)) <= 120'000);

  const nlohmann::json cart{{"items", {{{"sku", "A-1"}, {"qty", 2}}, {{"sku", "B-2"}, {"qty", 1}}}}, {"coupon", nullptr}};
  REQUIRE(f.sync(sessions.update(created.id, [&](redis::Session& s) { s.set_json("cart", cart); })).ok());
  CHECK(f.sync(sessions.get(created.id))->get_json("cart") == cart);
  CHECK_FALSE(f.sync(sessions.get(created.id))->get_json("owner"));  // "ops" is not JSON

  redis::SessionStore fixed(f.redis, {.ttl = 60s, .expiry = redis::SessionExpiry::fixed});
  REQUIRE(f.sync(fixed.create("fixed-1", {{"a", "1"}})).ok());
  REQUIRE(f.sync(f.redis.pexpire("session:{fixed-1}", 30'000ms)));  // as if 30 s had passed
  REQUIRE(f.sync(fixed.get("fixed-1")));
  REQUIRE(f.sync(fixed.update("fixed-1", [](redis::Session& s) { s.incr("n"); })).ok());
  CHECK(f.sync(f.redis.pttl("session:{fixed-1}")) <= 30'000);  // neither the load nor the save renewed it
  CHECK(f.sync(f.redis.pttl("session:{fixed-1}")) > 20'000);
}
