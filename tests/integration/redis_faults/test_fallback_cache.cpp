// redis.fallback_cache against a real redis-server killed and restarted: while Redis is unavailable,
// get() answers with what this process last read or wrote, a plain set() is kept in process (NX and
// XX never are); once Redis is back it is asked again, and nothing kept from before is ever served.
#include <catch2/catch.hpp>

#include "plugins/redis/redis_manager.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

redis::RedisConfig with_fallback(std::uint16_t port) {
  auto config = redis_config_for(port, "fallback:");
  config.fallback_cache.max_entries = 100;
  return config;
}

void kill_and_wait_down(RedisServer& server, redis::RedisManager& r) {
  server.kill9();
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
}

}  // namespace

TEST_CASE("fallback cache: an outage is served from process, and what Redis has since replaced never is") {
  RedisServer server;
  server.start();
  redis::RedisManager r(with_fallback(server.port()));
  REQUIRE(r.initialize());
  REQUIRE(r.run_sync(r.set("written", "w1")));
  server.command({"SET", "fallback:read", "r1"});
  REQUIRE(r.run_sync(r.get("read")) == "r1");
  REQUIRE(r.run_sync(r.set("deleted", "d1")));
  REQUIRE(r.run_sync(r.del({"deleted"})) == 1);

  kill_and_wait_down(server, r);
  CHECK(r.run_sync(r.get("written")) == "w1");  // what this process wrote
  CHECK(r.run_sync(r.get("read")) == "r1");     // and what it read
  CHECK_FALSE(r.run_sync(r.get("deleted")));
  CHECK_FALSE(r.run_sync(r.get("never seen")));
  CHECK(r.run_sync(r.set("offline", "o1")));    // kept in process, never sent
  CHECK(r.run_sync(r.get("offline")) == "o1");
  CHECK_FALSE(r.run_sync(r.set("lock", "me", {.px = 10s, .nx = true})));  // decided between instances: never here
  CHECK_FALSE(r.run_sync(r.get("lock")));
  CHECK(r.run_sync(r.getdel("read")) == "r1");
  CHECK_FALSE(r.run_sync(r.get("read")));
  const auto during = r.stats();
  CHECK(during.fallback_served == 4u);  // written, read, offline, and read once more by getdel
  CHECK(during.fallback_kept_offline == 1u);

  // Back, with another instance's value under "written" and nothing of ours.
  server.restart();
  REQUIRE(r.wait_connected(10s));
  server.command({"SET", "fallback:written", "w2"});
  CHECK(r.run_sync(r.get("written")) == "w2");   // Redis asked first, always
  CHECK_FALSE(r.run_sync(r.get("offline")));     // the set kept in process never reached Redis
  CHECK(r.stats().fallback_entries == 1);        // only what was read since: all before was dropped

  kill_and_wait_down(server, r);
  CHECK(r.run_sync(r.get("written")) == "w2");   // the value read after the restart
  CHECK_FALSE(r.run_sync(r.get("offline")));     // dropped when Redis came back: never served again
}

TEST_CASE("fallback cache: off by default, and never with Redis disabled") {
  RedisServer server;
  server.start();
  redis::RedisManager plain(redis_config_for(server.port(), "plain:"));
  REQUIRE(plain.initialize());
  REQUIRE(plain.run_sync(plain.set("k", "v")));
  CHECK_FALSE(plain.stats().fallback_served);
  kill_and_wait_down(server, plain);
  CHECK_FALSE(plain.run_sync(plain.get("k")));  // the documented default

  auto disabled_config = with_fallback(server.port());
  disabled_config.enabled = false;
  redis::RedisManager disabled(disabled_config);
  CHECK_FALSE(disabled.run_sync(disabled.set("k", "v")));  // a no-op, as every call disabled
  CHECK_FALSE(disabled.run_sync(disabled.get("k")));
}

TEST_CASE("fallback cache: an encrypting manager keeps values sealed and opens them as read from Redis") {
  RedisServer server;
  server.start();
  auto config = with_fallback(server.port());
  config.encryption_key = std::string(64, 'a');  // seed 004's bare hex key
  config.encrypt_values = true;
  redis::RedisManager r(config);
  REQUIRE(r.initialize());
  REQUIRE(r.run_sync(r.set("secret", "plain text")));
  kill_and_wait_down(server, r);
  CHECK(r.run_sync(r.get("secret")) == "plain text");
  CHECK(r.run_sync(r.set("offline secret", "more")));
  CHECK(r.run_sync(r.get("offline secret")) == "more");
}
