// Reconnect and resubscribe after a broker restart; SIGTERM drains handlers in flight.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/app_process.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/paths.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

TEST_CASE("after a broker restart the app reconnects, resubscribes, and later messages arrive", "[mqtt]") {
  MosquittoServer broker;
  broker.start();
  App app(app_config_for(broker.port()), Environment());
  app.route("ping/{n}", [](Context& ctx) { ctx.publish("pong/" + ctx.param("n"), std::string("1"), {.qos = 1}); })
      .name("ping")
      .qos(1);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  {
    MqttProbe probe;
    probe.connect(broker.port());
    probe.subscribe("pong/#", 1);
    probe.publish("ping/1", "", 1);
    REQUIRE(probe.wait_for_topic("pong/1", 10s));
  }
  broker.kill9();
  REQUIRE(wait_until([&] { return !app.mqtt_connected(); }, 10s));
  broker.restart();
  REQUIRE(running.wait_subscribed(20s));

  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("pong/#", 1);
  probe.publish("ping/2", "", 1);
  REQUIRE(probe.wait_for_topic("pong/2", 10s));
}

TEST_CASE("the app connects by itself when the broker starts after it", "[mqtt]") {
  MosquittoServer broker;  // configured (port chosen) but not started yet
  App app(app_config_for(broker.port()), Environment());
  app.route("late", [](Context& ctx) { ctx.publish("late/ok", std::string("1"), {.qos = 1}); }).name("late").qos(1);
  RunningApp running(app);
  CHECK_FALSE(app.mqtt_connected());
  broker.start();
  REQUIRE(running.wait_subscribed(20s));
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("late/ok", 1);
  probe.publish("late", "", 1);
  REQUIRE(probe.wait_for_topic("late/ok", 10s));
}

TEST_CASE("SIGTERM stops taking messages, drains handlers in flight, then exits cleanly", "[mqtt]") {
  MosquittoServer broker;
  broker.start();
  App app(app_config_for(broker.port()), Environment());
  std::atomic<int> started{0};
  app.route("slow/{n}",
            [&](Context& ctx) -> awaitable<void> {
              ++started;
              asio::steady_timer timer(co_await asio::this_coro::executor, 700ms);
              co_await timer.async_wait(asio::use_awaitable);
              ctx.publish("finished/" + ctx.param("n"), std::string("1"), {.qos = 1});
            })
      .name("slow")
      .qos(1);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("finished/#", 1);
  for (int n = 0; n < 3; ++n) probe.publish("slow/" + std::to_string(n), "", 1);
  REQUIRE(wait_until([&] { return started == 3; }, 10s));

  std::raise(SIGTERM);  // the app's signal handler takes it
  REQUIRE(wait_until([&] { return running.finished(); }, 20s));
  CHECK(running.exit_code() == 0);
  CHECK(probe.wait_count([](const ReceivedMessage& m) { return m.topic.rfind("finished/", 0) == 0; }, 3, 10s) == 3);
}

TEST_CASE("the service binary exits 0 on SIGTERM after draining, and reports bad config clearly") {
  MosquittoServer broker;
  broker.start();
  auto app = AppProcess::start({"run", "--config", example_config()},
                               {{"MQTT_BROKER", "127.0.0.1"}, {"MQTT_PORT", std::to_string(broker.port())}});
  REQUIRE(app.wait_log_contains("subscribed to", 20s));
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("devices/+/ack", 1);
  probe.publish("devices/p1/telemetry", R"({"msg_id":"x","value":1})", 1);
  REQUIRE(probe.wait_for_topic("devices/p1/ack", 10s));
  app.terminate();
  REQUIRE(app.wait_exit(20s));
  CHECK(app.exit_code() == 0);
  CHECK_THAT(app.log_text(), Catch::Contains("shutdown: all in-flight handlers finished"));

  auto bad_port = AppProcess::start({"check-config", "--config", example_config()},
                                    {{"MQTT_PORT", "abc"}});
  REQUIRE(bad_port.wait_exit(20s));
  CHECK(bad_port.exit_code() == 2);
  CHECK_THAT(bad_port.log_text(), Catch::Contains("MQTT_PORT") && Catch::Contains("abc"));

  auto routes = AppProcess::start({"routes", "--config", example_config()}, {});
  REQUIRE(routes.wait_exit(20s));
  CHECK(routes.exit_code() == 0);
  CHECK_THAT(routes.log_text(), Catch::Contains("$share/routemq/devices/+/telemetry") && Catch::Contains("telemetry") &&
                                     Catch::Contains("ORDERED BY") && Catch::Contains("{device_id}"));
}

// A handler that publishes while the app is at max_in_flight used to wait for Paho's lock, which
// Paho's receiving thread held while waiting for a free slot: the app stopped for good.
TEST_CASE("a flood at max_in_flight with handlers that publish, scraped all along: every message is handled, no deadlock", "[mqtt]") {
  // Paho's receive thread holds Paho's lock while it waits for a free slot: neither a handler's
  // publish nor a /metrics or /ready request (served on the workers) may wait for that lock.
  MosquittoServer broker;
  broker.start();
  App app(app_config_for(broker.port(), "metrics:\n  enabled: true\n  host: 127.0.0.1\n  port: 0\n",
                         {{"APP_MAX_IN_FLIGHT", "2"}}),
          Environment());
  app.route("load/{n}", [](Context& ctx) { ctx.publish("done/" + ctx.param("n"), std::string("1"), {.qos = 1}); })
      .name("load")
      .qos(1);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  REQUIRE(wait_until([&] { return app.operations_port() != 0; }, 10s));
  std::atomic<bool> flooding{true};
  std::atomic<int> scrapes{0};
  auto scrape = [&](const char* path) {
    while (flooding)
      if (http_get(app.operations_port(), path, "GET", 2s).status != 0) ++scrapes;
  };
  // More scrapers than workers: every worker can be inside a request at once.
  std::vector<std::thread> scrapers;
  for (const char* path : {"/metrics", "/ready", "/metrics"}) scrapers.emplace_back(scrape, path);
  MqttProbe probe;
  probe.connect(broker.port());
  constexpr int messages = 5000;
  for (int i = 0; i < messages; ++i) probe.publish("load/" + std::to_string(i % 50), "x", 1);
  const auto* stats = app.route_stats("load");
  const bool all_handled = wait_until([&] { return stats->handled == messages; }, 60s);
  flooding = false;
  for (auto& scraper : scrapers) scraper.join();
  INFO("handled " << stats->handled << " of " << messages << ", " << scrapes << " scrapes answered");
  CHECK(all_handled);
  CHECK(stats->failed == 0);
  CHECK(scrapes > 0);
}
