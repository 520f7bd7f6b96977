// MQTT sessions that lose nothing across restarts, and a status topic that says whether the instance
// lives: against a real mosquitto, with the app in-process and as the real binary.
#include <catch2/catch.hpp>

#include <csignal>

#include "core/config/config_error.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/app_process.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/paths.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// An instance with a kept session under a fixed client id, answering done/<id> for jobs/<id>.
std::unique_ptr<App> job_worker(std::uint16_t broker_port) {
  auto app = std::make_unique<App>(
      app_config_for(broker_port, "  client_id: job-worker-1\n  clean_start: false\n  session_expiry: 300\n"),
      Environment());
  app->route("jobs/{id}", [](Context& ctx) { ctx.publish("done/" + ctx.param("id"), "ok", {.qos = 1}); }).qos(1);
  return app;
}

}  // namespace

TEST_CASE("a kept session: QoS 1 messages published while the service is stopped are handled when it starts again", "[mqtt]") {
  MosquittoServer broker;
  broker.start();
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("done/#", 1);
  {
    auto first = job_worker(broker.port());
    RunningApp running(*first);
    REQUIRE(running.wait_subscribed());
    probe.publish("jobs/warm", "{}", 1);
    REQUIRE(probe.wait_for_topic("done/warm", 10s));
  }  // stopped cleanly (SIGTERM's path): the broker keeps the session and its subscription
  for (int i = 1; i <= 5; ++i) probe.publish("jobs/" + std::to_string(i), "{}", 1);
  auto second = job_worker(broker.port());
  RunningApp running(*second);
  CHECK(probe.wait_count([](const ReceivedMessage& m) { return m.topic.starts_with("done/") && m.topic != "done/warm"; },
                         5, 15s) == 5);
}

TEST_CASE("mqtt session settings: clean_start false needs a stable client id, a will topic has no wildcards") {
  CHECK_THROWS_WITH(app_config_for(1883, "  clean_start: false\n"),
                    Catch::Contains("mqtt.clean_start: false needs a stable mqtt.client_id (MQTT_CLIENT_ID)"));
  CHECK_NOTHROW(app_config_for(1883, "  clean_start: false\n", {{"MQTT_CLIENT_ID", "svc-${HOSTNAME}"}, {"HOSTNAME", "h1"}}));
  CHECK(app_config_for(1883, "  client_id: \"svc-${HOSTNAME}\"\n", {{"HOSTNAME", "h1"}}).mqtt.client_id == "svc-h1");
  CHECK_THROWS_WITH(app_config_for(1883, "  will: {topic: \"status/#\"}\n"), Catch::Contains("mqtt.will.topic: expected a topic without wildcards"));
  const auto will = app_config_for(1883, "  will: {topic: status/a, qos: 0}\n").mqtt.will;
  CHECK(will.topic == "status/a");
  CHECK(will.payload == "offline");
  CHECK(will.online_payload == "online");
  CHECK(will.retain);
}

TEST_CASE("a status topic: online on connect, offline on a clean stop, and the broker's will on kill -9", "[mqtt]") {
  MosquittoServer broker;
  broker.start();
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("status/example", 1);
  auto last_status = [&] {
    const auto messages = probe.messages();
    return messages.empty() ? std::string() : messages.back().payload;
  };
  const std::map<std::string, std::string> env{{"MQTT_BROKER", "127.0.0.1"}, {"MQTT_PORT", std::to_string(broker.port())},
                                               {"ENABLE_REDIS", "false"}, {"METRICS_PORT", "0"},
                                               {"MQTT_WILL_TOPIC", "status/example"}};
  {
    auto service = AppProcess::start({"run", "--config", example_config()}, env);
    REQUIRE(wait_until([&] { return last_status() == "online"; }, 15s));
    service.terminate();
    REQUIRE(service.wait_exit(15s));
    CHECK(wait_until([&] { return last_status() == "offline"; }, 10s));
  }
  auto service = AppProcess::start({"run", "--config", example_config()}, env);
  REQUIRE(wait_until([&] { return last_status() == "online"; }, 15s));
  service.process().signal(SIGKILL);
  CHECK(wait_until([&] { return last_status() == "offline"; }, 10s));  // published by the broker
  MqttProbe late;  // retained: a client arriving later sees the status too
  late.connect(broker.port());
  late.subscribe("status/example", 1);
  auto retained = late.wait_for_topic("status/example", 10s);
  REQUIRE(retained);
  CHECK(retained->payload == "offline");
}
