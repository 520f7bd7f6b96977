// The example service (routes/, with its middleware from YAML) on the test process's Redis Cluster,
// through a real mosquitto: every device's readings counted whichever master holds its keys (the
// route's pipeline spans slots), and a master killed with -9 followed without a restart.
#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>

#include "middleware/register_all.hpp"
#include "plugins/redis/cluster/hash_slot.hpp"
#include "routes/routes.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/wait_until.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

nlohmann::json wait_ack(MqttProbe& probe, const std::string& msg_id, const std::string& device = "d1") {
  auto ack = probe.wait_for(
      [&](const ReceivedMessage& m) {
        return m.topic == "devices/" + device + "/ack" && nlohmann::json::parse(m.payload).value("msg_id", "") == msg_id;
      },
      10s);
  REQUIRE(ack);
  return nlohmann::json::parse(ack->payload);
}

}  // namespace

TEST_CASE("the example service on a Redis Cluster: devices counted on every master, kill -9 of one followed without a restart") {
  MosquittoServer broker;
  broker.start();
  auto& cluster = RedisCluster::shared();
  const auto yaml = fmt::format(
      "redis:\n  enabled: true\n  cluster: {{nodes: ['127.0.0.1:{}']}}\n  socket_timeout: 1\n"
      "  socket_connect_timeout: 1\n  reconnect: {{min_delay: 0.02, max_delay: 0.3}}\n",
      cluster.node(0).port());
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
  std::set<std::uint16_t> masters_used;
  for (int d = 1; d <= 12; ++d) {  // twelve devices: their counters spread over the masters
    const auto device = "d" + std::to_string(d);
    masters_used.insert(cluster.master_port_of(redis::hash_slot("routemq:device:" + device + ":telemetry_count")));
    probe.publish("devices/" + device + "/telemetry", R"({"msg_id":"a","value":1})", 1);
    CHECK(wait_ack(probe, "a", device)["count"] == 1);
  }
  CHECK(masters_used.size() == 3);
  probe.publish("devices/d1/telemetry", R"({"msg_id":"b","value":2})", 1);
  CHECK(wait_ack(probe, "b")["count"] == 2);

  const auto counter_port = cluster.master_port_of(redis::hash_slot("routemq:device:d1:telemetry_count"));
  auto* master = cluster.node_on(counter_port);
  REQUIRE(master);
  master->kill9();
  probe.publish("devices/d1/telemetry", R"({"msg_id":"during","value":3})", 1);
  CHECK_FALSE(wait_ack(probe, "during").is_null());  // acked during the window (degraded or not), never lost
  REQUIRE(wait_until([&] {
    const auto now = cluster.master_port_of(redis::hash_slot("routemq:device:d1:telemetry_count"));
    return now != 0 && now != counter_port;
  }, 20s));
  REQUIRE(manager.wait_connected(10s));
  // The promoted replica had the count (replication is asynchronous, but two readings ago is long past).
  probe.publish("devices/d1/telemetry", R"({"msg_id":"c","value":4})", 1);
  const auto count = wait_ack(probe, "c")["count"];
  CHECK((count == 3 || count == 4));  // 4 when the reading sent during the window was stored on the new master
  probe.publish("devices/d2/telemetry", R"({"msg_id":"b","value":2})", 1);
  CHECK(wait_ack(probe, "b", "d2")["count"] == 2);  // the other devices went on throughout

  master->start();  // back as a replica of its successor, for the tests after this one
  CHECK(cluster.wait_ok());
}
