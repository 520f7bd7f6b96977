// session through real servers: values carry over between messages, concurrent increments from three
// instances are all kept, expiry slides (also for a message that changes nothing), limits are
// enforced, a session removed while the handler runs is not brought back, and an outage gives an
// ephemeral session.
#include <catch2/catch.hpp>

#include "middleware/decision_counters.hpp"
#include "middleware/session.hpp"
#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/redis_manager.hpp"
#include "tests/integration/middleware/middleware_fixture.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/redis_server.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// Counts messages in the session and publishes what it saw: "<count>,<last>,<ephemeral>".
awaitable<void> count_in_session(Context& ctx) {
  auto session = *ctx.get(middleware::current_session);
  const auto previous = session->get("last").value_or("none");
  const auto count = session->incr("count");
  session->set("last", std::string(ctx.payload()));
  if (ctx.payload() == "big") session->set("blob", std::string(100, 'x'));
  ctx.publish("seen/" + std::string(ctx.payload()),
              fmt::format("{},{},{}", count, previous, session->ephemeral() ? "ephemeral" : "stored"), {.qos = 1});
  co_return;
}

const std::string session_yaml = "[{session: {key: \"{device_id}\", ttl: 30, max_value_bytes: 50}}]";

// A broker, a redis-server and one instance serving dev/{device_id} with session_yaml and `handler`;
// a probe subscribed to what the handler publishes (seen/#).
struct SessionRoute {
  explicit SessionRoute(std::function<awaitable<void>(Context&)> handler) {
    broker.start();
    redis_server.start();
    instance = std::make_unique<MiddlewareInstance>(broker.port(), redis_server.port(), "dev/{device_id}", session_yaml,
                                                    std::move(handler));
    REQUIRE(instance->ready());
    probe.connect(broker.port());
    probe.subscribe("seen/#", 1);
  }
  MosquittoServer broker;
  RedisServer redis_server;
  std::unique_ptr<MiddlewareInstance> instance;
  MqttProbe probe;
};

}  // namespace

TEST_CASE("session: values written by one message are seen by the next, and the expiry slides") {
  SessionRoute route(count_in_session);
  route.probe.publish("dev/d1", "a", 1);
  auto first = route.probe.wait_for_topic("seen/a", 10s);
  REQUIRE(first);
  CHECK(first->payload == "1,none,stored");
  route.probe.publish("dev/d1", "b", 1);
  auto second = route.probe.wait_for_topic("seen/b", 10s);
  REQUIRE(second);
  CHECK(second->payload == "2,a,stored");
  // Saved after the handler publishes: each check waits for its save rather than race it.
  CHECK(wait_until([&] { return route.redis_server.command({"HGET", "routemq:session:{r:d1}", "count"}) == "$1\r\n2\r\n"; }, 10s));
  CHECK(route.redis_server.command({"HGET", "routemq:session:{r:d1}", "__version"}) == "$1\r\n2\r\n");
  // Sliding: shorten the TTL by hand, a message brings it back to the configured 30 s.
  route.redis_server.command({"PEXPIRE", "routemq:session:{r:d1}", "5000"});
  route.probe.publish("dev/d1", "c", 1);
  REQUIRE(route.probe.wait_for_topic("seen/c", 10s));
  CHECK(wait_until(
      [&] { return std::stoll(route.redis_server.command({"PTTL", "routemq:session:{r:d1}"}).substr(1)) > 20000; }, 10s));
  // Over max_value_bytes: the handler ran, the session is not saved. The next message (handled
  // after it: one device's messages are ordered) sees the session as "c" left it.
  route.probe.publish("dev/d1", "big", 1);
  REQUIRE(route.probe.wait_for_topic("seen/big", 10s));
  route.probe.publish("dev/d1", "d", 1);
  const auto after_big = route.probe.wait_for_topic("seen/d", 10s);
  REQUIRE(after_big);
  CHECK(after_big->payload == "4,c,stored");
}

namespace {

// "read": changes nothing; "remove": the session is removed while the handler runs, then changed.
awaitable<void> read_or_remove(Context& ctx) {
  auto session = *ctx.get(middleware::current_session);
  if (ctx.payload() == "remove") {
    std::vector<std::string> key{"session:{r:" + ctx.param("device_id") + "}"};  // no braces inside co_await (GCC 12)
    co_await redis::manager(ctx).del(std::move(key));
    session->set("after", "removed");
  } else if (ctx.payload() == "write") {
    session->set("n", "1");
  }
  ctx.publish("seen/" + std::string(ctx.payload()), "ok", {.qos = 1});
}

}  // namespace

TEST_CASE("session: a message that changes nothing still slides the expiry, and a session removed while the handler runs is not brought back") {
  SessionRoute route(read_or_remove);
  const auto new_before = middleware::decision_counters().get("session", "new");
  route.probe.publish("dev/d2", "write", 1);
  REQUIRE(route.probe.wait_for_topic("seen/write", 10s));
  CHECK(middleware::decision_counters().get("session", "new") == new_before + 1);  // none yet: a fresh one
  REQUIRE(wait_until([&] { return route.redis_server.command({"HGET", "routemq:session:{r:d2}", "n"}) == "$1\r\n1\r\n"; }, 10s));

  route.redis_server.command({"PEXPIRE", "routemq:session:{r:d2}", "5000"});
  route.probe.publish("dev/d2", "read", 1);
  REQUIRE(route.probe.wait_for_topic("seen/read", 10s));
  // Loaded (and so extended) before the handler ran, which published after.
  CHECK(std::stoll(route.redis_server.command({"PTTL", "routemq:session:{r:d2}"}).substr(1)) > 20000);

  const auto removed_before = middleware::decision_counters().get("session", "removed_meanwhile");
  route.probe.publish("dev/d2", "remove", 1);
  REQUIRE(route.probe.wait_for_topic("seen/remove", 10s));
  REQUIRE(wait_until([&] { return middleware::decision_counters().get("session", "removed_meanwhile") == removed_before + 1; }, 10s));
  CHECK(route.redis_server.command({"EXISTS", "routemq:session:{r:d2}"}) == ":0\r\n");  // no {after: removed}
}

namespace {

void run_concurrent_increments(SharedRedis::Kind kind) {
  MosquittoServer broker;
  broker.start();
  SharedRedis redis(kind);
  std::vector<std::unique_ptr<MiddlewareInstance>> instances;
  const std::string yaml = "[{session: {key: \"{device_id}\", ttl: 30, retries: 50}}]";
  for (int i = 0; i < 3; ++i)
    instances.push_back(std::make_unique<MiddlewareInstance>(broker.port(), redis, "dev/{device_id}", yaml,
                                                             count_in_session));
  for (auto& instance : instances) REQUIRE(instance->ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("seen/#", 1);
  for (int i = 0; i < 30; ++i) probe.publish("dev/shared", "m" + std::to_string(i), 1);
  REQUIRE(count_prefix(probe, "seen/", 30, 30s) == 30);
  // The session is saved after the handler publishes: wait for the last save rather than race it.
  CHECK(wait_until(
      [&] {
        return redis.holding("routemq:session:{r:shared}").command({"HGET", "routemq:session:{r:shared}", "count"}) ==
               "$2\r\n30\r\n";
      },
      10s));
}

}  // namespace

TEST_CASE("session: concurrent increments from three instances are never lost") {
  run_concurrent_increments(SharedRedis::Kind::plain);
}

TEST_CASE("session over TLS: concurrent increments from three instances are never lost") {
  run_concurrent_increments(SharedRedis::Kind::tls);
}

TEST_CASE("session behind Sentinel: concurrent increments from three instances are never lost") {
  run_concurrent_increments(SharedRedis::Kind::sentinel);
}

TEST_CASE("session on a Redis Cluster: concurrent increments from three instances are never lost") {
  run_concurrent_increments(SharedRedis::Kind::cluster);
}

TEST_CASE("session with Redis down: an empty, ephemeral session, and the handler still runs") {
  SessionRoute route(count_in_session);
  route.redis_server.kill9();
  REQUIRE(wait_until([&] { return !route.instance->manager->is_connected(); }, 10s));
  route.probe.publish("dev/d9", "x", 1);
  auto seen = route.probe.wait_for_topic("seen/x", 10s);
  REQUIRE(seen);
  CHECK(seen->payload == "1,none,ephemeral");
}
