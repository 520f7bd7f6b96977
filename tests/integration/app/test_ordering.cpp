// Per-key ordering through a real mosquitto: a key's messages are handled one after another in
// publish order, other keys meanwhile; and a device's stored state never goes back in time.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "core/config/config_error.hpp"
#include "middleware/register_all.hpp"
#include "routes/routes.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/redis_server.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

awaitable<void> pause_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

// Which "fast" messages were handled, by route and device; a handler may wait (bounded) for one.
class FastDone {
 public:
  void mark(const std::string& who) {
    std::lock_guard lock(mutex_);
    done_.insert(who);
  }
  awaitable<void> wait(std::string who) {
    for (int i = 0; i < 2000 && !seen(who); ++i) co_await pause_for(5ms);  // at most 10 s
  }

 private:
  bool seen(const std::string& who) {
    std::lock_guard lock(mutex_);
    return done_.contains(who);
  }
  std::mutex mutex_;
  std::set<std::string> done_;
};

// The topics of `prefix` received, in the order they arrived.
std::vector<std::string> received_under(const MqttProbe& probe, const std::string& prefix) {
  std::vector<std::string> topics;
  for (const auto& m : probe.messages())
    if (m.topic.starts_with(prefix)) topics.push_back(m.topic + "=" + m.payload);
  return topics;
}

}  // namespace

TEST_CASE("ordering: a slow first message keeps the key's next one waiting, other keys and unordered routes do not wait") {
  MosquittoServer broker;
  broker.start();
  App app(app_config_for(broker.port()), Environment());
  // Each answers done/<route>/<device>. "slow" pauses, where its key must hold the next message
  // back. "overtaken" waits until the "fast" one of its route and device was handled (bounded):
  // held back, that one never comes, the wait runs out and the order shows it; no timing decides.
  auto fast_done = std::make_shared<FastDone>();
  auto handler = [fast_done](std::string route) {
    return [route, fast_done](Context& ctx) -> awaitable<void> {
      const auto who = route + "/" + std::string(ctx.param("d"));
      if (ctx.payload() == "slow") co_await pause_for(400ms);
      if (ctx.payload() == "overtaken") co_await fast_done->wait(who);
      ctx.publish("done/" + who, std::string(ctx.payload()), {.qos = 1});
      if (ctx.payload() == "fast") fast_done->mark(who);
    };
  };
  app.route("bytopic/{d}/{kind}", handler("bytopic")).name("bytopic").qos(1);  // the default: by topic
  app.route("bydevice/{d}/{kind}", handler("bydevice")).name("bydevice").qos(1).ordered("{d}");
  app.route("free/{d}", handler("free")).name("free").qos(1).unordered();
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("done/#", 1);

  // Same device, two topics: by topic they are two keys (the fast one overtakes), by device one.
  probe.publish("bytopic/x/a", "overtaken", 1);
  probe.publish("bytopic/x/b", "fast", 1);
  probe.publish("bydevice/x/a", "slow", 1);
  probe.publish("bydevice/x/b", "fast", 1);
  // One topic, unordered: the fast one overtakes.
  probe.publish("free/x", "overtaken", 1);
  probe.publish("free/x", "fast", 1);
  // One topic, ordered: never overtaken.
  probe.publish("bytopic/y/a", "slow", 1);
  probe.publish("bytopic/y/a", "fast", 1);
  REQUIRE(probe.wait_count([](const ReceivedMessage& m) { return m.topic.starts_with("done/"); }, 8, 30s) == 8);

  CHECK(received_under(probe, "done/bytopic/x") == std::vector<std::string>{"done/bytopic/x=fast", "done/bytopic/x=overtaken"});
  CHECK(received_under(probe, "done/bydevice/x") == std::vector<std::string>{"done/bydevice/x=slow", "done/bydevice/x=fast"});
  CHECK(received_under(probe, "done/free/x") == std::vector<std::string>{"done/free/x=fast", "done/free/x=overtaken"});
  CHECK(received_under(probe, "done/bytopic/y") == std::vector<std::string>{"done/bytopic/y=slow", "done/bytopic/y=fast"});
  CHECK(app.route_stats("bytopic")->handled == 4);
}

TEST_CASE("ordering: thousands of readings from several devices at once, acks in publish order, the last value stored last", "[mqtt]") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  const auto yaml = fmt::format(
      "redis:\n  enabled: true\n  host: 127.0.0.1\n  port: {}\n"
      "routes:\n  telemetry:\n    middleware:\n      - dedupe: {{id: \"{{device_id}}:{{payload.msg_id}}\"}}\n",
      redis_server.port());
  auto plugin = middleware::redis_plugin();
  App app(app_config_for(broker.port(), yaml), Environment(), {plugin});
  example::add_routes(app);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  REQUIRE(plugin->manager().wait_connected(10s));

  MqttProbe acks;
  acks.connect(broker.port());
  acks.subscribe("devices/+/ack", 1);
  constexpr int devices = 4, readings = 600;
  std::vector<std::thread> publishers;
  for (int d = 0; d < devices; ++d)
    publishers.emplace_back([&, d] {
      MqttProbe device;
      device.connect(broker.port());
      for (int i = 1; i <= readings; ++i)
        device.publish(fmt::format("devices/o{}/telemetry", d), fmt::format(R"({{"msg_id":"r{}","value":{}}})", i, i), 1);
    });
  for (auto& publisher : publishers) publisher.join();
  REQUIRE(acks.wait_count([](const ReceivedMessage&) { return true; }, devices * readings, 60s) == devices * readings);

  for (int d = 0; d < devices; ++d) {
    const auto topic = fmt::format("devices/o{}/ack", d);
    std::vector<std::string> order;
    for (const auto& m : acks.messages())
      if (m.topic == topic) order.push_back(nlohmann::json::parse(m.payload)["msg_id"]);
    REQUIRE(order.size() == readings);
    int out_of_order = 0;
    for (int i = 0; i < readings; ++i) out_of_order += order[i] != "r" + std::to_string(i + 1);
    CHECK(out_of_order == 0);
    CHECK(redis_server.command({"HGET", fmt::format("routemq:device:o{}", d), "last_value"}) == "$5\r\n600.0\r\n");
  }
}

TEST_CASE("ordering from YAML: true, false or a key, and a key naming no parameter is a located config error") {
  MosquittoServer broker;
  App by_device(app_config_for(broker.port(), "routes:\n  telemetry:\n    ordered: \"{device_id}\"\n  rpc:\n    ordered: true\n"),
                Environment());
  example::add_routes(by_device);
  by_device.build();
  for (const auto& route : by_device.routes()) {
    if (route.name == "telemetry") CHECK(route.ordered_by == "{device_id}");
    if (route.name == "rpc") CHECK(route.ordered_by == "{topic}");
  }

  App off(app_config_for(broker.port(), "routes:\n  telemetry:\n    ordered: false\n"), Environment());
  example::add_routes(off);
  off.build();
  for (const auto& route : off.routes())
    if (route.name == "telemetry") CHECK(route.ordered_by.empty());

  App wrong(app_config_for(broker.port(), "routes:\n  telemetry:\n    ordered: \"{device}\"\n"), Environment());
  example::add_routes(wrong);
  CHECK_THROWS_WITH(wrong.build(), Catch::Contains("test.yaml:13:14: routes.telemetry.ordered: order key '{device}': "
                                                   "'device' is not a parameter of the route (expected one of: topic, device_id)"));
}
