// Sessions offered to handlers: create/get/update/replace/touch/remove/list, versions, conflicts,
// limits, expiry, created_at and user_id, and saves that race a remove.
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
  CHECK(missing.missing());  // available, just not there: seed 001/002's None
  CHECK_FALSE(missing.found());
  CHECK_FALSE(missing.session.exists());
  CHECK_FALSE(missing.session.ephemeral());
  CHECK(missing.session.fields().empty());
  // An update changes a session that exists: it creates none.
  const auto update_missing = f.sync(sessions.update("dev-1", [](redis::Session& s) { s.set("a", "1"); }));
  CHECK(update_missing.status == redis::SaveStatus::missing);
  CHECK(f.sync(sessions.get("dev-1")).missing());

  const auto created = f.sync(sessions.create("dev-1", {{"owner", "ops"}, {"zone", "b"}}));
  CHECK(created.status == redis::SaveStatus::saved);
  CHECK(created.version == 1);
  CHECK(f.sync(sessions.create("dev-1", {{"owner", "someone else"}})).status == redis::SaveStatus::conflict);

  auto loaded = f.sync(sessions.get("dev-1"));
  REQUIRE(loaded.found());
  CHECK(loaded.session.exists());
  CHECK(loaded.session.version() == 1);
  CHECK(loaded.session.get("owner") == "ops");  // the failed create changed nothing

  const auto updated = f.sync(sessions.update("dev-1", [](redis::Session& s) {
    s.incr("logins");
    s.erase("zone");
  }));
  CHECK(updated.status == redis::SaveStatus::saved);
  CHECK(updated.version == 2);
  auto after = f.sync(sessions.get("dev-1"));
  CHECK(after.session.fields() == std::map<std::string, std::string>{{"logins", "1"}, {"owner", "ops"}});
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
  CHECK(f.sync(sessions.get("dev-1")).missing());
}

TEST_CASE("sessions: a stale save is re-applied on the newer state, never lost") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis);
  REQUIRE(f.sync(sessions.create("d", {{"count", "0"}})).ok());
  auto first = f.sync(sessions.get("d")).session;
  auto second = f.sync(sessions.get("d")).session;
  first.incr("count");
  first.set("by", "first");
  second.incr("count", 10);
  CHECK(f.sync(sessions.save("d", first)).status == redis::SaveStatus::saved);
  const auto late = f.sync(sessions.save("d", second));  // loaded version 1, stored is 2 now
  CHECK(late.status == redis::SaveStatus::saved);
  CHECK(late.version == 3);
  auto stored = f.sync(sessions.get("d")).session;
  CHECK(stored.get("count") == "11");
  CHECK(stored.get("by") == "first");

  redis::SessionStore no_retries(f.redis, {.retries = 0});
  auto stale = f.sync(no_retries.get("d")).session;
  REQUIRE(f.sync(no_retries.update("d", [](redis::Session& s) { s.set("x", "1"); })).ok());
  stale.set("x", "2");
  CHECK(f.sync(no_retries.save("d", stale)).status == redis::SaveStatus::conflict);
  CHECK(f.sync(sessions.get("d")).session.get("x") == "1");
}

TEST_CASE("sessions: concurrent updates from many threads all count") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis, {.retries = 100});
  REQUIRE(f.sync(sessions.create("shared", {})).ok());
  std::vector<std::thread> threads;
  std::atomic<int> not_saved{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i)
        if (!f.redis.run_sync(sessions.update("shared", [](redis::Session& s) { s.incr("n"); })).ok()) ++not_saved;
    });
  for (auto& thread : threads) thread.join();
  CHECK(not_saved == 0);
  CHECK(f.sync(sessions.get("shared")).session.get("n") == "40");
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
  CHECK(f.sync(sessions.get("d")).missing());  // nothing written
}

TEST_CASE("sessions with Redis unavailable: get says unavailable with an ephemeral session, writes say unavailable, ephemeral sessions are never saved") {
  redis::RedisManager disabled{redis::RedisConfig{}};
  redis::SessionStore sessions(disabled);
  const auto read = disabled.run_sync(sessions.get("d"));
  CHECK(read.unavailable());
  CHECK_FALSE(read.missing());
  CHECK(read.session.ephemeral());
  CHECK(disabled.run_sync(sessions.replace("d", {{"a", "1"}})).status == redis::SaveStatus::unavailable);
  CHECK_FALSE(disabled.run_sync(sessions.touch("d")));
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
  const std::map<std::string, std::string> named_like_internal{
      {"__version", "mine"}, {"__ttl", "1"}, {"___x", "three"}, {"__created_at", "0"}, {"__incarnation", "x"},
      {"__user_id", "not the user"}};
  REQUIRE(f.sync(sessions.create("dev-9", named_like_internal, {.user_id = "u-9"})).ok());
  auto loaded = f.sync(sessions.get("dev-9")).session;
  CHECK(loaded.version() == 1);
  CHECK(loaded.fields() == named_like_internal);
  CHECK(loaded.user_id() == "u-9");
  CHECK(loaded.created_at() != std::chrono::system_clock::time_point{});
  REQUIRE(f.sync(sessions.update("dev-9", [](redis::Session& s) { s.set("__version", "still mine"); })).ok());
  CHECK(f.sync(sessions.get("dev-9")).session.version() == 2);
  CHECK(f.server.command({"HGET", "test:session:{dev-9}", "__version"}) == "$1\r\n2\r\n");
}

TEST_CASE("sessions: generated ids, nested JSON values, a TTL of its own, sliding or fixed expiry") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis, {.ttl = std::chrono::hours(1)});
  const auto created = f.sync(sessions.create({{"owner", "ops"}}, {.ttl = std::chrono::minutes(2)}));
  REQUIRE(created.result.ok());
  CHECK(created.id.size() == 32);
  const auto key = "session:{" + created.id + "}";
  CHECK(f.sync(f.redis.pttl(key)) <= 120'000);
  REQUIRE(f.sync(f.redis.pexpire(key, 60'000ms)));
  REQUIRE(f.sync(sessions.touch(created.id)));  // back to its own two minutes, not the store's hour
  CHECK(f.sync(f.redis.pttl(key)) > 100'000);
  CHECK(f.sync(f.redis.pttl(key)) <= 120'000);

  const nlohmann::json cart{{"items", {{{"sku", "A-1"}, {"qty", 2}}, {{"sku", "B-2"}, {"qty", 1}}}}, {"coupon", nullptr}};
  REQUIRE(f.sync(sessions.update(created.id, [&](redis::Session& s) { s.set_json("cart", cart); })).ok());
  CHECK(f.sync(sessions.get(created.id)).session.get_json("cart") == cart);
  CHECK_FALSE(f.sync(sessions.get(created.id)).session.get_json("owner"));  // "ops" is not JSON

  redis::SessionStore fixed(f.redis, {.ttl = 60s, .expiry = redis::SessionExpiry::fixed});
  REQUIRE(f.sync(fixed.create("fixed-1", {{"a", "1"}})).ok());
  REQUIRE(f.sync(f.redis.pexpire("session:{fixed-1}", 30'000ms)));  // as if 30 s had passed
  REQUIRE(f.sync(fixed.get("fixed-1")).found());
  REQUIRE(f.sync(fixed.update("fixed-1", [](redis::Session& s) { s.incr("n"); })).ok());
  CHECK(f.sync(f.redis.pttl("session:{fixed-1}")) <= 30'000);  // neither the load nor the save renewed it
  CHECK(f.sync(f.redis.pttl("session:{fixed-1}")) > 20'000);
}

namespace {

// The time left on a session's key, in ms.
long long time_left(RedisFixture& f, const std::string& id) { return f.sync(f.redis.pttl("session:{" + id + "}")); }
void shorten(RedisFixture& f, const std::string& id) {  // as if 55 of its 60 minutes had passed
  REQUIRE(f.sync(f.redis.pexpire("session:{" + id + "}", 300'000ms)));
}

}  // namespace

TEST_CASE("sessions: get leaves the expiry alone unless asked, touch restarts it, a write follows the store or the call (seed 002's extend_ttl)") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis, {.ttl = 1h});
  REQUIRE(f.sync(sessions.create("s", {{"a", "1"}})).ok());
  shorten(f, "s");
  REQUIRE(f.sync(sessions.get("s")).found());
  CHECK(time_left(f, "s") <= 300'000);  // a plain read renews nothing (seed 001/002's get_session)
  REQUIRE(f.sync(sessions.get("s", {.extend_ttl = true})).found());
  CHECK(time_left(f, "s") > 3'000'000);

  shorten(f, "s");
  CHECK(f.sync(sessions.touch("s")));
  CHECK(time_left(f, "s") > 3'000'000);
  CHECK(f.sync(sessions.touch("s", 10min)));  // for this once
  CHECK(time_left(f, "s") <= 600'000);
  CHECK(time_left(f, "s") > 500'000);
  CHECK_FALSE(f.sync(sessions.touch("nobody")));
  CHECK(f.sync(sessions.get("nobody")).missing());  // touch created nothing

  // Writes on a sliding store extend, unless the call says not to; the one-off ten minutes are gone.
  REQUIRE(f.sync(sessions.update("s", [](redis::Session& s) { s.incr("n"); })).ok());
  CHECK(time_left(f, "s") > 3'000'000);
  shorten(f, "s");
  REQUIRE(f.sync(sessions.update("s", [](redis::Session& s) { s.incr("n"); }, {.extend_ttl = false})).ok());
  CHECK(time_left(f, "s") <= 300'000);
  REQUIRE(f.sync(sessions.replace("s", {{"b", "2"}}, {.extend_ttl = false})).ok());
  CHECK(time_left(f, "s") <= 300'000);

  // On a fixed store, a write keeps the time left unless the call extends it.
  redis::SessionStore fixed(f.redis, {.ttl = 1h, .expiry = redis::SessionExpiry::fixed});
  REQUIRE(f.sync(fixed.replace("s", {{"c", "3"}})).ok());
  CHECK(time_left(f, "s") <= 300'000);
  REQUIRE(f.sync(fixed.replace("s", {{"c", "3"}}, {.extend_ttl = true})).ok());
  CHECK(time_left(f, "s") > 3'000'000);
}

TEST_CASE("sessions: update merges, replace makes the fields exactly the given ones (seed 002's update_session)") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis);
  REQUIRE(f.sync(sessions.create("s", {{"a", "1"}, {"b", "2"}}, {.user_id = "u-1"})).ok());
  const auto created_at = f.sync(sessions.get("s")).session.created_at();
  REQUIRE(f.sync(sessions.update("s", [](redis::Session& s) { s.set("c", "3"); })).ok());
  CHECK(f.sync(sessions.get("s")).session.fields() == std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "3"}});

  const auto replaced = f.sync(sessions.replace("s", {{"c", "30"}, {"d", "4"}}));
  CHECK(replaced.status == redis::SaveStatus::saved);
  CHECK(replaced.version == 3);
  const auto after = f.sync(sessions.get("s")).session;
  CHECK(after.fields() == std::map<std::string, std::string>{{"c", "30"}, {"d", "4"}});
  CHECK(after.user_id() == "u-1");  // what the session is, not its data: kept
  CHECK(after.created_at() == created_at);

  CHECK(f.sync(sessions.replace("nobody", {{"a", "1"}})).status == redis::SaveStatus::missing);
  CHECK(f.sync(sessions.get("nobody")).missing());

  // A replacement that meets a newer save replaces that one too: clear() is re-applied like any change.
  auto stale = f.sync(sessions.get("s")).session;
  REQUIRE(f.sync(sessions.update("s", [](redis::Session& s) { s.set("e", "5"); })).ok());
  stale.clear();
  stale.set("only", "this");
  const auto late = f.sync(sessions.save("s", stale));
  CHECK(late.status == redis::SaveStatus::saved);
  CHECK(late.version == 5);
  CHECK(f.sync(sessions.get("s")).session.fields() == std::map<std::string, std::string>{{"only", "this"}});
}

TEST_CASE("sessions: created_at and user_id are recorded (seed 001's create_session(user_id, data))") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis);
  const auto before = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto created = f.sync(sessions.create({{"role", "admin"}}, {.user_id = "u-42"}));
  REQUIRE(created.result.ok());
  const auto after = std::chrono::system_clock::now();
  const auto read = f.sync(sessions.get(created.id));
  REQUIRE(read.found());
  REQUIRE(read.session.created_at());
  CHECK(*read.session.created_at() >= before);
  CHECK(*read.session.created_at() <= after);
  CHECK(read.session.user_id() == "u-42");
  CHECK(read.session.fields() == std::map<std::string, std::string>{{"role", "admin"}});  // not among the fields
  CHECK(f.server.command({"HGET", "test:session:{" + created.id + "}", "__user_id"}) == "$4\r\nu-42\r\n");

  // A session made by saving a missing one (as the session middleware does) records when, and no user.
  auto fresh = f.sync(sessions.get("dev-1"));
  REQUIRE(fresh.missing());
  CHECK_FALSE(fresh.session.created_at());
  fresh.session.set("a", "1");
  REQUIRE(f.sync(sessions.save("dev-1", fresh.session)).ok());
  const auto saved = f.sync(sessions.get("dev-1")).session;
  CHECK(saved.created_at());
  CHECK_FALSE(saved.user_id());
  // Kept by later saves.
  REQUIRE(f.sync(sessions.update("dev-1", [](redis::Session& s) { s.incr("n"); })).ok());
  CHECK(f.sync(sessions.get("dev-1")).session.created_at() == saved.created_at());
}

TEST_CASE("sessions: a save of a session removed since it was loaded fails as missing and brings nothing back") {
  RedisFixture f;
  redis::SessionStore sessions(f.redis);
  REQUIRE(f.sync(sessions.create("s", {{"a", "1"}, {"b", "2"}})).ok());
  auto loaded = f.sync(sessions.get("s")).session;
  REQUIRE(f.sync(sessions.remove("s")));
  loaded.set("a", "2");
  const auto saved = f.sync(sessions.save("s", loaded));
  CHECK(saved.status == redis::SaveStatus::missing);
  CHECK_FALSE(saved.ok());
  CHECK_THAT(saved.problem, Catch::Contains("removed"));
  CHECK(f.server.command({"EXISTS", "test:session:{s}"}) == ":0\r\n");  // no partial session {a: 2}

  // Removed and created again under the same id (version 1 again): the save does not write over it.
  REQUIRE(f.sync(sessions.create("s", {{"a", "1"}})).ok());
  auto old = f.sync(sessions.get("s")).session;
  REQUIRE(f.sync(sessions.remove("s")));
  REQUIRE(f.sync(sessions.create("s", {{"new", "yes"}})).ok());
  old.set("a", "2");
  CHECK(f.sync(sessions.save("s", old)).status == redis::SaveStatus::missing);
  CHECK(f.sync(sessions.get("s")).session.fields() == std::map<std::string, std::string>{{"new", "yes"}});

  // Expired counts as removed.
  auto expiring = f.sync(sessions.get("s")).session;
  REQUIRE(f.sync(f.redis.pexpire("session:{s}", 1ms)));
  REQUIRE(wait_until([&] { return f.server.command({"EXISTS", "test:session:{s}"}) == ":0\r\n"; }, 5s));
  expiring.incr("n");
  CHECK(f.sync(sessions.save("s", expiring)).status == redis::SaveStatus::missing);
  CHECK(f.sync(sessions.get("s")).missing());
}

namespace {

// README's sessions example, copied as it stands there (keep the two the same): it must compile and
// do what its comments say. redis::manager(ctx) is the handler's; here a stand-in context gives it.
struct ReadmeContext {
  redis::RedisManager& redis;
};

}  // namespace

namespace routemq::redis {
RedisManager& manager(ReadmeContext& ctx) { return ctx.redis; }
}  // namespace routemq::redis

namespace {

awaitable<bool> readme_sessions_example(ReadmeContext& ctx, std::string id) {  // bool: run_sync takes no void
  redis::SessionStore sessions(redis::manager(ctx), {.ttl = 24h});
  const std::map<std::string, std::string> fields{{"owner", "ops"}};  // not braced inside co_await: GCC 12
  co_await sessions.create(id, fields, {.user_id = "u-42"});         // conflict if it exists
  auto fresh = co_await sessions.create(fields, {.ttl = 15min});    // a new random id, a TTL of its own
  auto read = co_await sessions.get(id);       // read.found(), read.missing() (seed 002's None), read.unavailable()
  if (read.found()) { read.session.get("owner"); read.session.created_at(); read.session.user_id(); }
  // s.set_json("cart", cart) / s.get_json("cart"): nested values; fields named "__..." are yours too
  co_await sessions.update(id, [](redis::Session& s) { s.incr("logins"); });  // merges: other fields stay
  co_await sessions.replace(id, fields, {.extend_ttl = true});  // seed 002's update_session: exactly these
  co_await sessions.get(id, {.extend_ttl = true});  co_await sessions.touch(id);  // a plain get() extends nothing
  // SessionOptions{.ttl, .expiry = redis::SessionExpiry::fixed}: writes keep the time left unless {.extend_ttl = true}
  co_await sessions.remove(id);  co_await sessions.list("dev-*");
  co_return true;
}

}  // namespace

TEST_CASE("sessions: README's example compiles and runs") {
  RedisFixture f;
  ReadmeContext ctx{f.redis};
  REQUIRE(f.sync(readme_sessions_example(ctx, "readme-1")));
  redis::SessionStore sessions(f.redis);
  CHECK(f.sync(sessions.get("readme-1")).missing());  // removed at its end
  const auto left = f.sync(sessions.list());
  REQUIRE(left.size() == 1);                           // the one with a random id, and its own 15 minutes
  CHECK(f.sync(f.redis.pttl("session:{" + left.front() + "}")) <= 900'000);
}
