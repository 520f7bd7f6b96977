// The example service with the Redis plugin, through a real mosquitto and a real redis-server:
// telemetry is stored and counted; with Redis gone the acks still go out; behind Sentinel, a master
// killed with -9 is followed without a restart (on a Redis Cluster: tests/integration/redis_cluster).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/testing/test_app.hpp"
#include "middleware/register_all.hpp"
#include "routes/routes.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/sentinel_group.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

std::string redis_yaml(std::uint16_t port) {
  return fmt::format(
      "redis:\n  enabled: true\n  host: 127.0.0.1\n  port: {}\n  socket_timeout: 1\n  socket_connect_timeout: 1\n"
      "  reconnect: {{min_delay: 0.02, max_delay: 0.3}}\n",
      port);
}

nlohmann::json wait_ack(MqttProbe& probe, const std::string& msg_id) {
  auto ack = probe.wait_for(
      [&](const ReceivedMessage& m) {
        return m.topic == "devices/d1/ack" && nlohmann::json::parse(m.payload).value("msg_id", "") == msg_id;
      },
      10s);
  REQUIRE(ack);
  return nlohmann::json::parse(ack->payload);
}

}  // namespace

// In process (routemq::testing::TestApp): what is checked is the route and Redis, not the broker.
TEST_CASE("telemetry is stored in Redis and counted, with Redis down the ack still goes out") {
  RedisServer redis_server;
  redis_server.start();
  testing::TestApp app({.yaml = redis_yaml(redis_server.port()),
                        .plugins = [] { return std::vector<std::shared_ptr<Plugin>>{middleware::redis_plugin()}; },
                        .routes = example::add_routes});
  auto& manager = app.service<redis::RedisManager>();
  auto redis_health = [&] { return app.app().plugin_health().at(0).second; };
  auto ack = [&](const std::string& msg_id, double value) {
    const auto delivery = app.deliver("devices/d1/telemetry", fmt::format(R"({{"msg_id":"{}","value":{}}})", msg_id, value));
    REQUIRE(delivery.published.size() == 1);
    return nlohmann::json::parse(delivery.published[0].payload);
  };
  CHECK(redis_health().state == PluginHealth::State::ok);

  CHECK(ack("a", 20.5)["count"] == 1);
  CHECK(ack("b", 21)["count"] == 2);
  CHECK(redis_server.command({"HGET", "routemq:device:d1", "last_value"}) == "$4\r\n21.0\r\n");
  CHECK(redis_server.command({"LRANGE", "routemq:device:d1:recent", "0", "-1"}) ==
        "*2\r\n$4\r\n21.0\r\n$4\r\n20.5\r\n");

  redis_server.kill9();
  REQUIRE(wait_until([&] { return !manager.is_connected(); }, 10s));
  CHECK(redis_health().state == PluginHealth::State::degraded);
  // /ready says why: the connection's last failure, in words.
  CHECK_THAT(redis_health().detail, Catch::Contains("127.0.0.1:" + std::to_string(redis_server.port())) &&
                                        (Catch::Contains("connection lost") || Catch::Contains("cannot connect")));
  CHECK(ack("c", 1)["count"].is_null());

  redis_server.restart();
  REQUIRE(manager.wait_connected(10s));
  CHECK(ack("d", 2)["count"] == 1);  // a fresh redis-server (no persistence)
}

TEST_CASE("the example service behind Sentinel: kill -9 of the master is followed without a restart, counts go on on the promoted replica") {
  MosquittoServer broker;
  broker.start();
  SentinelGroup group;
  const auto yaml = fmt::format(
      "redis:\n  enabled: true\n  sentinel: {{nodes: [{}], master_name: {}}}\n  socket_timeout: 1\n"
      "  socket_connect_timeout: 1\n  reconnect: {{min_delay: 0.02, max_delay: 0.3}}\n",
      group.sentinel_list(), SentinelGroup::master_name);
  auto plugin = middleware::redis_plugin();
  App app(app_config_for(broker.port(), yaml, {}), Environment(), {plugin});
  auto& manager = plugin->manager();
  example::add_routes(app);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  REQUIRE(manager.wait_connected(10s));

  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("devices/+/ack", 1);
  probe.publish("devices/d1/telemetry", R"({"msg_id":"a","value":1})", 1);
  CHECK(wait_ack(probe, "a")["count"] == 1);
  probe.publish("devices/d1/telemetry", R"({"msg_id":"b","value":2})", 1);
  CHECK(wait_ack(probe, "b")["count"] == 2);
  // Replication is asynchronous: the replica has both readings before the master dies.
  REQUIRE(wait_until([&] { return group.replica().command({"GET", "routemq:device:d1:telemetry_count"}) == "$1\r\n2\r\n"; }, 10s));

  group.master().kill9();
  probe.publish("devices/d1/telemetry", R"({"msg_id":"during","value":3})", 1);
  CHECK_FALSE(wait_ack(probe, "during").is_null());  // acked during the window (degraded or not), never lost
  REQUIRE(group.wait_master_is(group.replica().port()));
  REQUIRE(wait_until([&] { return manager.stats().master == "127.0.0.1:" + std::to_string(group.replica().port()); }, 15s));
  REQUIRE(manager.wait_connected(10s));
  probe.publish("devices/d1/telemetry", R"({"msg_id":"c","value":4})", 1);
  const auto count = wait_ack(probe, "c")["count"];
  CHECK((count == 3 || count == 4));  // 4 when the reading sent during the window was stored on the new master
  CHECK(manager.stats().failovers == 1);
}
