// lock through three app instances sharing one redis-server: no overlap, increasing fences, renewal
// keeps a slow handler's lock, and a dead holder's lock expires.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

#include "middleware/decision_counters.hpp"
#include "middleware/lock.hpp"
#include "tests/integration/middleware/middleware_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// Detects two handlers inside the locked section at once, and records the fences in entry order.
struct OverlapDetector {
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> lost{0};
  std::mutex mutex;
  std::vector<long long> fences;
};

std::function<awaitable<void>(Context&)> guarded_handler(std::shared_ptr<OverlapDetector> detector,
                                                         std::chrono::milliseconds work) {
  return [detector, work](Context& ctx) -> awaitable<void> {
    auto* state = ctx.get(middleware::held_lock);
    if (detector->inside.fetch_add(1) != 0) detector->overlaps.fetch_add(1);
    {
      std::lock_guard lock(detector->mutex);
      detector->fences.push_back(state ? (*state)->fence() : -1);
    }
    asio::steady_timer timer(co_await asio::this_coro::executor, work);
    co_await timer.async_wait(asio::use_awaitable);
    if (state && (*state)->lost()) detector->lost.fetch_add(1);
    detector->inside.fetch_sub(1);
    ctx.publish("done/" + ctx.param("n"), "1", {.qos = 1});
  };
}


// Three instances contend for one lock on `kind` of Redis.
void run_contention(SharedRedis::Kind kind) {
  MosquittoServer broker;
  broker.start();
  SharedRedis redis(kind);
  auto detector = std::make_shared<OverlapDetector>();
  // ttl 0.3 s but each handler works 0.4 s: only renewal keeps the lock.
  const std::string yaml = "[{lock: {key: \"shared\", ttl: 0.3, wait: 20}}]";
  std::vector<std::unique_ptr<MiddlewareInstance>> instances;
  for (int i = 0; i < 3; ++i)
    instances.push_back(std::make_unique<MiddlewareInstance>(broker.port(), redis, "work/{n}", yaml,
                                                             guarded_handler(detector, 400ms)));
  for (auto& instance : instances) REQUIRE(instance->ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("done/#", 1);
  for (int i = 0; i < 9; ++i) probe.publish("work/" + std::to_string(i), "{}", 1);
  REQUIRE(count_prefix(probe, "done/", 9, 60s) == 9);
  CHECK(detector->overlaps == 0);
  CHECK(detector->lost == 0);
  std::lock_guard lock(detector->mutex);
  REQUIRE(detector->fences.size() == 9);
  for (std::size_t i = 1; i < detector->fences.size(); ++i) CHECK(detector->fences[i] > detector->fences[i - 1]);
  CHECK(detector->fences.front() >= 1);
  // Released: after the last handler's "done" is published, so wait for it rather than race it.
  CHECK(wait_until(
      [&] { return redis.holding("routemq:lock:{r:shared}").command({"EXISTS", "routemq:lock:{r:shared}"}) == ":0\r\n"; },
      10s));
}

}  // namespace

TEST_CASE("lock: three contending instances never overlap, fences strictly increase, renewal keeps slow handlers' locks") {
  run_contention(SharedRedis::Kind::plain);
}

TEST_CASE("lock over TLS: three contending instances never overlap") { run_contention(SharedRedis::Kind::tls); }

TEST_CASE("lock behind Sentinel: three contending instances never overlap") {
  run_contention(SharedRedis::Kind::sentinel);
}

TEST_CASE("lock on a Redis Cluster: three contending instances never overlap") {
  run_contention(SharedRedis::Kind::cluster);
}

TEST_CASE("lock: a dead holder's lock expires and the next message gets it, contention past the wait is skipped") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto detector = std::make_shared<OverlapDetector>();
  MiddlewareInstance instance(broker.port(), redis_server.port(), "work/{n}",
                              "[{lock: {key: \"k\", ttl: 5, wait: 3, contention_topic: \"busy/{n}\"}}]",
                              guarded_handler(detector, 10ms));
  REQUIRE(instance.ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("done/#", 1);
  probe.subscribe("busy/#", 1);
  // A holder that died: its lock has a TTL, nobody releases it.
  REQUIRE(redis_server.command({"SET", "routemq:lock:{r:k}", "dead-holder", "PX", "1000"}) == "+OK\r\n");
  probe.publish("work/1", "{}", 1);
  CHECK(probe.wait_for_topic("done/1", 10s));

  REQUIRE(redis_server.command({"SET", "routemq:lock:{r:k}", "stuck-holder", "PX", "60000"}) == "+OK\r\n");
  probe.publish("work/2", "{}", 1);
  CHECK(probe.wait_for_topic("busy/2", 10s));
  CHECK_FALSE(probe.wait_for_topic("done/2", 200ms));
  CHECK(redis_server.command({"GET", "routemq:lock:{r:k}"}) == "$12\r\nstuck-holder\r\n");  // never deleted
}

TEST_CASE("lock with Redis down: handlers proceed unlocked, with fence 0") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto proceed_detector = std::make_shared<OverlapDetector>();
  MiddlewareInstance proceeding(broker.port(), redis_server.port(), "work/{n}", "[{lock: {key: \"k\"}}]",
                                guarded_handler(proceed_detector, 10ms));
  REQUIRE(proceeding.ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("done/#", 1);
  redis_server.kill9();
  REQUIRE(wait_until([&] { return !proceeding.manager->is_connected(); }, 10s));
  probe.publish("work/1", "{}", 1);
  REQUIRE(probe.wait_for_topic("done/1", 10s));
  std::lock_guard lock(proceed_detector->mutex);
  CHECK(proceed_detector->fences == std::vector<long long>{0});
}

TEST_CASE("lock with Redis down and on_unavailable: skip: the handler is skipped and counted, then locks again after restart") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto detector = std::make_shared<OverlapDetector>();
  MiddlewareInstance skipping(broker.port(), redis_server.port(), "work/{n}",
                              "[{lock: {key: \"k\", on_unavailable: skip}}]", guarded_handler(detector, 10ms));
  REQUIRE(skipping.ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("done/#", 1);
  redis_server.kill9();
  REQUIRE(wait_until([&] { return !skipping.manager->is_connected(); }, 10s));
  const auto unavailable_before = middleware::decision_counters().get("lock", "unavailable");
  probe.publish("work/1", "{}", 1);
  REQUIRE(wait_until([&] { return middleware::decision_counters().get("lock", "unavailable") > unavailable_before; }, 10s));

  redis_server.restart();
  REQUIRE(skipping.manager->wait_connected(15s));
  probe.publish("work/2", "{}", 1);
  REQUIRE(probe.wait_for_topic("done/2", 10s));
  CHECK_FALSE(probe.wait_for_topic("done/1", 0s));  // done/2 came after: work/1 was skipped, not late
  std::lock_guard lock(detector->mutex);
  REQUIRE(detector->fences.size() == 1);
  CHECK(detector->fences[0] >= 1);  // handled under a real lock again
}
