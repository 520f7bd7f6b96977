// Publish -> route -> handler -> reply, through a real mosquitto, with the example service's routes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "routes/routes.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

TEST_CASE("telemetry is acknowledged and invalid payloads are rejected while the service keeps serving", "[mqtt]") {
  MosquittoServer broker;
  broker.start();
  App app(app_config_for(broker.port()), Environment());
  example::add_routes(app);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());

  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("devices/+/ack", 1);
  probe.subscribe("devices/+/rejected", 1);

  probe.publish("devices/d1/telemetry", R"({"msg_id":"m1","value":21.5})", 1);
  auto ack = probe.wait_for_topic("devices/d1/ack", 10s);
  REQUIRE(ack);
  // No Redis plugin in this app: the ack still goes out, without a count.
  CHECK(nlohmann::json::parse(ack->payload) == nlohmann::json{{"msg_id", "m1"}, {"count", nullptr}});

  probe.publish("devices/d2/telemetry", "not json", 1);
  auto rejected = probe.wait_for_topic("devices/d2/rejected", 10s);
  REQUIRE(rejected);
  auto body = nlohmann::json::parse(rejected->payload);
  CHECK(body["error"] == "invalid_payload");

  probe.publish("devices/d3/telemetry", R"({"msg_id":"m3"})", 1);  // no value
  REQUIRE(probe.wait_for_topic("devices/d3/rejected", 10s));

  probe.publish("devices/d1/telemetry", R"({"msg_id":"m4","value":1})", 1);
  auto later = probe.wait_for([](const ReceivedMessage& m) { return m.payload.find("m4") != std::string::npos; }, 10s);
  REQUIRE(later);
  CHECK(later->topic == "devices/d1/ack");

  const auto* stats = app.route_stats("telemetry");
  REQUIRE(stats);
  CHECK(wait_until([&] { return stats->handled == 2 && stats->rejected == 2; }, 10s));
  CHECK(stats->failed == 0);
}

TEST_CASE("an MQTT 5 request is answered on its response topic with its correlation data", "[mqtt]") {
  MosquittoServer broker;
  broker.start();
  App app(app_config_for(broker.port()), Environment());
  example::add_routes(app);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());

  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("replies/probe", 1);
  probe.publish("rpc/echo", R"({"n":7})", 1, false,
                PublishProperties{.response_topic = "replies/probe", .correlation_data = "corr-7"});
  auto reply = probe.wait_for_topic("replies/probe", 10s);
  REQUIRE(reply);
  CHECK(reply->correlation_data == "corr-7");
  auto body = nlohmann::json::parse(reply->payload);
  CHECK(body["service"] == "echo");
  CHECK(body["request"] == nlohmann::json{{"n", 7}});
  CHECK(body["cached"] == false);  // no Redis plugin in this app: computed every time
}

TEST_CASE("a throwing handler is counted and the next message is still handled") {
  MosquittoServer broker;
  broker.start();
  App app(app_config_for(broker.port()), Environment());
  app.route("jobs/{id}", [](Context& ctx) {
       if (ctx.param("id") == "bad") throw std::runtime_error("handler bug");
       ctx.publish("done/" + ctx.param("id"), std::string("ok"));
     })
      .name("jobs")
      .qos(1);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("done/#", 1);
  probe.publish("jobs/bad", "x", 1);
  probe.publish("jobs/good", "x", 1);
  REQUIRE(probe.wait_for_topic("done/good", 10s));
  CHECK(wait_until([&] { return app.route_stats("jobs")->failed == 1; }, 10s));
  CHECK(app.route_stats("jobs")->handled == 1);
}

TEST_CASE("overlapping routes: the most specific one handles each message exactly once", "[mqtt]") {
  MosquittoServer broker;
  broker.start();
  App app(app_config_for(broker.port()), Environment());
  auto reply_with = [](std::string label) {
    return [label](Context& ctx) { ctx.publish("seen/" + label, ctx.topic()); };
  };
  app.route("devices/{id}/{kind}", reply_with("param")).name("param").qos(1);
  app.route("devices/#", reply_with("wildcard")).name("wildcard").qos(1);
  app.route("devices/special/status", reply_with("literal")).name("literal").qos(1);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("seen/#", 1);
  probe.publish("devices/special/status", "1", 1);
  probe.publish("devices/d1/status", "2", 1);
  probe.publish("devices/d1/a/b", "3", 1);
  REQUIRE(probe.wait_count([](const ReceivedMessage&) { return true; }, 3, 10s) == 3);
  // Give a duplicate a fair chance to show up: a fourth message published after the three must be the next.
  probe.publish("devices/x/y/z", "4", 1);
  REQUIRE(probe.wait_count([](const ReceivedMessage&) { return true; }, 4, 10s) == 4);
  auto messages = probe.messages();
  REQUIRE(messages.size() == 4);
  std::map<std::string, std::string> by_payload;
  for (const auto& m : messages) by_payload[m.payload] = m.topic;
  CHECK(by_payload["devices/special/status"] == "seen/literal");
  CHECK(by_payload["devices/d1/status"] == "seen/param");
  CHECK(by_payload["devices/d1/a/b"] == "seen/wildcard");
  CHECK(by_payload["devices/x/y/z"] == "seen/wildcard");
}
