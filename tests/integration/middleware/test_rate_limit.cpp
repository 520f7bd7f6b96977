// rate_limit through three app instances sharing one redis-server and one mosquitto: exact limits for
// every strategy, and messages keep flowing when Redis dies.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "middleware/rate_limit.hpp"
#include "tests/integration/middleware/middleware_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/redis_server.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// An instance serving "limited/{device_id}" behind rate_limit; the handler publishes passed/<id>.
template <class Redis>  // a port, or a SharedRedis
std::unique_ptr<MiddlewareInstance> limited(std::uint16_t mqtt_port, const Redis& redis, const std::string& limit_yaml) {
  auto publish_decision = [](Context& ctx) -> awaitable<void> {
    const auto* decision = ctx.get(middleware::rate_limit_decision);
    ctx.publish("passed/" + ctx.param("device_id"), decision ? decision->source : "none", {.qos = 1});
    co_return;
  };
  return std::make_unique<MiddlewareInstance>(mqtt_port, redis, "limited/{device_id}",
                                              "[{rate_limit: " + limit_yaml + "}]", publish_decision);
}

void run_exactness(const std::string& limit_yaml, SharedRedis::Kind kind = SharedRedis::Kind::plain) {
  MosquittoServer broker;
  broker.start();
  SharedRedis redis(kind);
  std::vector<std::unique_ptr<MiddlewareInstance>> instances;
  for (int i = 0; i < 3; ++i) instances.push_back(limited(broker.port(), redis, limit_yaml));
  for (auto& instance : instances) REQUIRE(instance->ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("passed/#", 1);
  probe.subscribe("rejected/#", 1);
  for (int i = 0; i < 50; ++i)
    probe.publish("limited/d1", nlohmann::json{{"msg_id", i}}.dump(), 1);
  // 10 pass, 40 are rejected: wait for all 50 outcomes, then check nothing more arrives.
  REQUIRE(count_prefix(probe, "rejected/d1", 40, 20s) == 40);
  CHECK(count_prefix(probe, "passed/d1", 10, 10s) == 10);
  CHECK(count_prefix(probe, "passed/d1", 11, 500ms) == 10);
  auto rejected = probe.wait_for_topic("rejected/d1", 1s);
  REQUIRE(rejected);
  const auto body = nlohmann::json::parse(rejected->payload);
  CHECK(body["error"] == "rate_limited");
  CHECK(body["retry_after_ms"].get<long long>() > 0);
  CHECK(body.contains("msg_id"));
}

}  // namespace

const std::string gcra_yaml = "{key: \"{device_id}\", rate: 10, period: 86400, burst: 10, reject_topic: \"rejected/{device_id}\"}";

TEST_CASE("GCRA: exactly the burst passes through three instances sharing Redis") { run_exactness(gcra_yaml); }

TEST_CASE("GCRA over TLS: exactly the burst passes through three instances") {
  run_exactness(gcra_yaml, SharedRedis::Kind::tls);
}

TEST_CASE("GCRA behind Sentinel: exactly the burst passes through three instances") {
  run_exactness(gcra_yaml, SharedRedis::Kind::sentinel);
}

TEST_CASE("GCRA on a Redis Cluster: exactly the burst passes through three instances") {
  run_exactness(gcra_yaml, SharedRedis::Kind::cluster);
}

TEST_CASE("fixed_window: exactly the limit passes") {
  run_exactness("{key: \"{device_id}\", rate: 10, period: 86400, strategy: fixed_window, "
                "reject_topic: \"rejected/{device_id}\"}");
}

TEST_CASE("sliding_window: exactly the limit passes") {
  run_exactness("{key: \"{device_id}\", rate: 10, period: 86400, strategy: sliding_window, "
                "reject_topic: \"rejected/{device_id}\"}");
}

TEST_CASE("token_bucket: exactly the capacity passes") {
  run_exactness("{key: \"{device_id}\", rate: 10, period: 86400, burst: 10, strategy: token_bucket, "
                "reject_topic: \"rejected/{device_id}\"}");
}

TEST_CASE("Redis killed mid-run: rate_limit falls back to the local limiter and recovers after restart") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto instance = limited(broker.port(), redis_server.port(),
                          "{key: \"{device_id}\", rate: 3, period: 86400, reject_topic: \"rejected/{device_id}\"}");
  REQUIRE(instance->ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("passed/#", 1);
  probe.subscribe("rejected/#", 1);

  redis_server.kill9();
  REQUIRE(wait_until([&] { return !instance->manager->is_connected(); }, 10s));
  for (int i = 0; i < 5; ++i) probe.publish("limited/d2", "{}", 1);
  // The local GCRA (burst 3) keeps deciding: 3 pass, 2 are limited, nothing crashes.
  CHECK(count_prefix(probe, "rejected/d2", 2, 10s) == 2);
  CHECK(count_prefix(probe, "passed/d2", 3, 10s) == 3);
  auto passed = probe.wait_for_topic("passed/d2", 1s);
  REQUIRE(passed);
  CHECK(passed->payload == "local");

  redis_server.restart();
  REQUIRE(instance->manager->wait_connected(10s));
  probe.clear();
  probe.publish("limited/d3", "{}", 1);
  auto back = probe.wait_for_topic("passed/d3", 10s);
  REQUIRE(back);
  CHECK(back->payload == "redis");
}

TEST_CASE("rate_limit options are validated with located errors") {
  auto build_with = [](const std::string& options) {
    const std::string yaml = "routes:\n  r:\n    middleware:\n      - rate_limit: " + options + "\n";
    App app(app_config_for(1883, yaml), Environment(), {middleware::redis_plugin()});
    app.route("a/{x}", [](Context&) {}).name("r");
    app.build();
  };
  CHECK_THROWS_WITH(build_with("{key: x}"), Catch::Contains("rate_limit.rate: is required"));
  CHECK_THROWS_WITH(build_with("{rate: 0}"), Catch::Contains("rate: expected an integer between 1"));
  CHECK_THROWS_WITH(build_with("{rate: 2000000, period: 1}"), Catch::Contains("more than one message per microsecond"));
  CHECK_THROWS_WITH(build_with("{rate: 1, strategy: leaky}"), Catch::Contains("expected one of: gcra, fixed_window"));
  CHECK_THROWS_WITH(build_with("{rate: 1, key: \"{oops\"}"), Catch::Contains("key template '{oops'"));
  CHECK_THROWS_WITH(build_with("{rate: 1, burts: 2}"), Catch::Contains("did you mean 'burst'"));
  CHECK_THROWS_WITH(build_with("{rate: 10, burst: 3, cost: 4}"),
                    Catch::Contains("test.yaml:") && Catch::Contains("rate_limit.cost: 4 is more than the burst (3) of route 'r': "
                                                                    "no message could ever pass"));
  CHECK_THROWS_WITH(build_with("{rate: 2, cost: 3, strategy: sliding_window}"),
                    Catch::Contains("cost: 3 is more than the rate (2) of route 'r'"));
  CHECK_NOTHROW(build_with("{rate: 10, burst: 4, cost: 4, strategy: token_bucket}"));
  CHECK_NOTHROW(build_with("{rate: 5, period: 60, whitelist: [\"a/admin\"], on_unavailable: deny}"));
}

TEST_CASE("rate_limit whitelist uses MQTT filter semantics, not substrings") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto instance = limited(broker.port(), redis_server.port(),
                          "{key: \"{device_id}\", rate: 1, period: 86400, whitelist: [\"limited/admin\"], "
                          "reject_topic: \"rejected/{device_id}\"}");
  REQUIRE(instance->ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("passed/#", 1);
  probe.subscribe("rejected/#", 1);
  for (int i = 0; i < 3; ++i) probe.publish("limited/admin", "{}", 1);   // whitelisted: all pass
  for (int i = 0; i < 3; ++i) probe.publish("limited/admins", "{}", 1);  // not the filter: 1 passes
  REQUIRE(count_prefix(probe, "rejected/admins", 2, 10s) == 2);
  CHECK(count_prefix(probe, "passed/admin", 4, 10s) == 4);  // "passed/admin" prefixes both topics
  CHECK(count_prefix(probe, "passed/admins", 1, 1s) == 1);
}

TEST_CASE("rate_limit whitelist_keys: glob patterns over the rendered key") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto instance = limited(broker.port(), redis_server.port(),
                          "{key: \"{device_id}\", rate: 1, period: 86400, whitelist_keys: [\"ops-*\", \"lab-?\"], "
                          "reject_topic: \"rejected/{device_id}\"}");
  REQUIRE(instance->ready());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("passed/#", 1);
  probe.subscribe("rejected/#", 1);
  for (int i = 0; i < 3; ++i) probe.publish("limited/ops-7", "{}", 1);   // "ops-*": all pass
  for (int i = 0; i < 3; ++i) probe.publish("limited/lab-1", "{}", 1);   // "lab-?": all pass
  for (int i = 0; i < 3; ++i) probe.publish("limited/lab-12", "{}", 1);  // '?' is one character: 1 passes
  for (int i = 0; i < 3; ++i) probe.publish("limited/xops-7", "{}", 1);  // whole-key match: 1 passes
  REQUIRE(count_prefix(probe, "rejected/", 4, 10s) == 4);
  CHECK(count_prefix(probe, "passed/ops-7", 3, 10s) == 3);
  CHECK(count_prefix(probe, "passed/lab-1", 4, 10s) == 4);  // "passed/lab-1" prefixes "passed/lab-12"
  CHECK(count_prefix(probe, "rejected/lab-12", 2, 1s) == 2);
  CHECK(count_prefix(probe, "rejected/xops-7", 2, 1s) == 2);
}
