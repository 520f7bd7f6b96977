// With Redis disabled, every method completes at once with its documented default.
#include <catch2/catch.hpp>

#include "plugins/redis/redis_manager.hpp"

using namespace routemq;
using namespace std::chrono_literals;

TEST_CASE("a disabled manager answers every call with its documented default, never throwing") {
  redis::RedisManager r{redis::RedisConfig{}};  // enabled = false
  CHECK_FALSE(r.initialize());
  CHECK_FALSE(r.is_enabled());
  CHECK_FALSE(r.is_connected());
  CHECK_FALSE(r.run_sync(r.ping()));
  CHECK_FALSE(r.run_sync(r.get("k")));
  CHECK_FALSE(r.run_sync(r.set("k", "v")));
  CHECK_FALSE(r.run_sync(r.incr("k")));
  CHECK(r.run_sync(r.del({"k"})) == 0);
  CHECK_FALSE(r.run_sync(r.exists("k")));
  CHECK(r.run_sync(r.ttl("k")) == -2);
  CHECK(r.run_sync(r.type("k")) == "none");
  CHECK(r.run_sync(r.keys("*")).empty());
  CHECK(r.run_sync(r.hgetall("h")).empty());
  CHECK_FALSE(r.run_sync(r.hget("h", "f")));
  CHECK(r.run_sync(r.lrange("l", 0, -1)).empty());
  CHECK(r.run_sync(r.mget({"a", "b"})) == std::vector<std::optional<std::string>>(2));
  CHECK_FALSE(r.run_sync(r.blpop({"l"}, 1s)));
  CHECK_FALSE(r.run_sync(r.get_json("j")).value);
  CHECK(r.run_sync(r.publish("c", "m")) == 0);
  const auto raw = r.run_sync(r.command({"GET", "k"}));
  CHECK(raw.unavailable());
  CHECK_THAT(raw.error_text(), Catch::Contains("disabled"));
  CHECK(r.run_sync(r.eval(redis::Script("return 1"), {}, {})).unavailable());
  CHECK(r.stats().state == "disabled");
  CHECK(r.stats().unavailable > 5);
}
