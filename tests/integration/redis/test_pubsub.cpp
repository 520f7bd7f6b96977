// Pub/Sub on a real redis-server: several handlers per channel, each ended by its own handle, many
// channels per call, JSON both ways, and every subscription back after Redis restarts.
#include <catch2/catch.hpp>

#include <atomic>

#include "plugins/redis/redis_manager.hpp"
#include "tests/integration/redis/redis_fixture.hpp"
#include "tests/support/received_messages.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// Publishes until `heard` holds `message` (a subscription confirmed by the server may still be on
// its way to the connection that publishes), within a deadline.
bool published_until_heard(RedisFixture& f, const std::string& channel, const std::string& payload,
                           const ReceivedMessages& heard, const std::string& message) {
  return wait_until([&] {
    f.sync(f.redis.publish(channel, payload));
    return heard.contains(message);
  }, 10s);
}

}  // namespace

TEST_CASE("pub/sub: two handlers on one channel both hear it, and ending one handle leaves the other") {
  RedisFixture f;
  ReceivedMessages first, second;
  const auto one = f.redis.subscribe("news", first.handler());
  f.redis.subscribe("news", second.handler());
  CHECK(one.id != 0);
  REQUIRE(wait_until([&] { return f.redis.subscriptions_active(); }, 10s));
  CHECK(f.sync(f.redis.publish("news", "a")) == 1);  // one connection subscribed, whatever the handlers
  REQUIRE(wait_until([&] { return first.contains("news:a") && second.contains("news:a"); }, 10s));

  f.redis.unsubscribe(one);
  REQUIRE(published_until_heard(f, "news", "b", second, "news:b"));
  CHECK_FALSE(first.contains("news:b"));
  CHECK(first.size() == 1);

  f.redis.unsubscribe("news");  // every handler left
  REQUIRE(wait_until([&] { return f.sync(f.redis.publish("news", "c")) == 0; }, 10s));
}

TEST_CASE("pub/sub: one call subscribes many channels, and its handle ends them all") {
  RedisFixture f;
  ReceivedMessages heard;
  const auto both = f.redis.subscribe({"orders", "refunds"}, heard.handler());
  REQUIRE(wait_until([&] { return f.redis.subscriptions_active(); }, 10s));
  CHECK(f.sync(f.redis.publish("orders", "1")) == 1);
  CHECK(f.sync(f.redis.publish("refunds", "2")) == 1);
  REQUIRE(wait_until([&] { return heard.size() == 2; }, 10s));
  f.redis.unsubscribe(both);
  REQUIRE(wait_until([&] { return f.sync(f.redis.publish("orders", "3")) == 0; }, 10s));
  CHECK(f.sync(f.redis.publish("refunds", "4")) == 0);
}

TEST_CASE("pub/sub: JSON published and received as JSON, and a payload that is not JSON is counted and skipped") {
  RedisFixture f;
  std::mutex mutex;
  std::vector<nlohmann::json> messages;
  f.redis.subscribe_json({"events"}, [&](const std::string&, const nlohmann::json& message) {
    std::lock_guard lock(mutex);
    messages.push_back(message);
  });
  REQUIRE(wait_until([&] { return f.redis.subscriptions_active(); }, 10s));
  const auto failures = f.redis.cache_stats().decode_failures.load();
  CHECK(f.sync(f.redis.publish("events", "not json {")) == 1);
  CHECK(f.sync(f.redis.publish_json("events", {{"kind", "login"}, {"user", 42}})) == 1);
  REQUIRE(wait_until([&] {
    std::lock_guard lock(mutex);
    return messages.size() == 1;
  }, 10s));
  CHECK(messages.front() == nlohmann::json{{"kind", "login"}, {"user", 42}});
  CHECK(f.redis.cache_stats().decode_failures.load() == failures + 1);
  CHECK(f.sync(f.redis.publish_json("events", std::string("\xff\xfe"))) == 0);  // not UTF-8: not sent
}

TEST_CASE("pub/sub: after Redis restarts, every handler of every channel and pattern hears again") {
  RedisFixture f;
  ReceivedMessages first, second, patterned;
  f.redis.subscribe("news", first.handler());
  f.redis.subscribe("news", second.handler());
  f.redis.psubscribe("alerts.*", patterned.handler("p "));
  REQUIRE(wait_until([&] { return f.redis.subscriptions_active(); }, 10s));
  f.server.restart();
  REQUIRE(published_until_heard(f, "news", "again", first, "news:again"));
  REQUIRE(wait_until([&] { return second.contains("news:again"); }, 10s));
  REQUIRE(published_until_heard(f, "alerts.fire", "!", patterned, "p alerts.fire:!"));
  f.redis.punsubscribe("alerts.*");
  REQUIRE(wait_until([&] { return f.sync(f.redis.publish("alerts.fire", "?")) == 0; }, 10s));
}
