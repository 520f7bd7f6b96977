// dedupe through real servers: once per id, a failed handler releases its claim, and an outage
// falls back to the in-process memory of recent ids.
#include <catch2/catch.hpp>

#include <atomic>

#include "middleware/dedupe.hpp"
#include "tests/integration/middleware/middleware_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/redis_server.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// Whether the marker says done: "d:<fingerprint>:<answers>".
bool marked_done(RedisServer& server, const std::string& key) {
  return server.command({"GET", key}).find("\r\nd:") != std::string::npos;
}

const std::string dedupe_yaml = "[{dedupe: {id: \"{payload.msg_id}\", window: 60, lease: 5}}]";

// Publishes handled/<msg_id>; fails once for ids starting with "fail".
struct FailOnceHandler {
  std::shared_ptr<std::atomic<int>> failures = std::make_shared<std::atomic<int>>(0);
  awaitable<void> operator()(Context& ctx) const {
    const auto id = ctx.json()["msg_id"].get<std::string>();
    if (id.rfind("fail", 0) == 0 && failures->fetch_add(1) == 0) throw std::runtime_error("handler failed once");
    ctx.publish("handled/" + id, std::string("1"), {.qos = 1});
    co_return;
  }
};

}  // namespace

TEST_CASE("dedupe: an id published five times is handled once, a failed handler lets the next copy through") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  FailOnceHandler handler;
  std::vector<std::unique_ptr<MiddlewareInstance>> instances;
  for (int i = 0; i < 3; ++i)
    instances.push_back(std::make_unique<MiddlewareInstance>(broker.port(), redis_server.port(), "jobs/{n}",
                                                             dedupe_yaml, handler));
  for (auto& instance : instances) REQUIRE(instance->ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("handled/#", 1);
  for (int i = 0; i < 5; ++i) probe.publish("jobs/1", R"({"msg_id":"m1"})", 1);
  probe.publish("jobs/1", R"({"msg_id":"m2"})", 1);  // a different id passes, and marks the end
  REQUIRE(probe.wait_for_topic("handled/m2", 10s));
  CHECK(count_prefix(probe, "handled/m1", 2, 1s) == 1);
  // The marker is written after the handler, without it waiting.
  CHECK(wait_until([&] { return marked_done(redis_server, "routemq:dd:{r:m1}"); }, 10s));
  CHECK(redis_server.command({"PTTL", "routemq:dd:{r:m1}"}).rfind(":", 0) == 0);

  probe.publish("jobs/1", R"({"msg_id":"fail-1"})", 1);  // the handler throws: the claim is released
  REQUIRE(wait_until([&] { return handler.failures->load() == 1; }, 10s));
  REQUIRE(wait_until([&] { return redis_server.command({"EXISTS", "routemq:dd:{r:fail-1}"}) == ":0\r\n"; }, 10s));
  probe.publish("jobs/1", R"({"msg_id":"fail-1"})", 1);  // the redelivery is handled
  CHECK(probe.wait_for_topic("handled/fail-1", 10s));
}

TEST_CASE("dedupe with Redis down: the in-process memory still drops copies, and Redis is used again after") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  MiddlewareInstance instance(broker.port(), redis_server.port(), "jobs/{n}", dedupe_yaml, FailOnceHandler{});
  REQUIRE(instance.ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("handled/#", 1);
  redis_server.kill9();
  REQUIRE(wait_until([&] { return !instance.manager->is_connected(); }, 10s));
  for (int i = 0; i < 3; ++i) probe.publish("jobs/1", R"({"msg_id":"x"})", 1);
  probe.publish("jobs/1", R"({"msg_id":"y"})", 1);
  REQUIRE(probe.wait_for_topic("handled/y", 10s));
  CHECK(count_prefix(probe, "handled/x", 2, 1s) == 1);

  redis_server.restart();
  REQUIRE(instance.manager->wait_connected(10s));
  probe.publish("jobs/1", R"({"msg_id":"z"})", 1);
  REQUIRE(probe.wait_for_topic("handled/z", 10s));
  CHECK(wait_until([&] { return marked_done(redis_server, "routemq:dd:{r:z}"); }, 10s));
}
