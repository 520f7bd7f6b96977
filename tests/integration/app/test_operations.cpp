// The operations endpoint of a running app: /health, /ready and /metrics against a real mosquitto and
// redis-server, reflecting messages, middleware decisions, and Redis or the broker going away.
#include <catch2/catch.hpp>

#include "core/config/config_error.hpp"
#include "middleware/register_all.hpp"
#include "plugins/redis/redis_plugin.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/redis_server.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

std::string operations_yaml(std::uint16_t redis_port) {
  return fmt::format(
      "metrics:\n  enabled: true\n  host: 127.0.0.1\n  port: 0\n"
      "redis:\n  enabled: true\n  host: 127.0.0.1\n  port: {}\n  socket_timeout: 1\n  socket_connect_timeout: 1\n"
      "  reconnect: {{min_delay: 0.02, max_delay: 0.3}}\n"
      "routes:\n  jobs:\n    middleware:\n      - rate_limit: {{key: \"{{n}}\", rate: 2, period: 3600}}\n",
      redis_port);
}

bool metrics_contain(std::uint16_t port, const std::string& line) {
  return http_get(port, "/metrics").body.find(line) != std::string::npos;
}

}  // namespace

TEST_CASE("operations endpoint: health, readiness and metrics follow the app, Redis and the broker") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto plugin = middleware::redis_plugin();
  App app(app_config_for(broker.port(), operations_yaml(redis_server.port())), Environment(), {plugin});
  auto& manager = plugin->manager();
  app.route("jobs/{n}", [](Context& ctx) { ctx.publish("done/" + ctx.param("n"), "1"); }).name("jobs");
  app.route("broken/{n}", [](Context&) { throw std::runtime_error("boom"); }).name("broken");
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  REQUIRE(manager.wait_connected(10s));
  const auto port = app.operations_port();
  REQUIRE(port != 0);

  CHECK(http_get(port, "/health").status == 200);
  auto ready = http_get(port, "/ready");
  CHECK(ready.status == 200);
  CHECK_THAT(ready.body, Catch::Contains("\"ready\":true"));
  CHECK_THAT(ready.body, Catch::Contains("\"state\":\"ok\""));

  MqttProbe probe;
  probe.connect(broker.port());
  for (int i = 0; i < 3; ++i) probe.publish("jobs/7", "{}", 1);  // rate 2: the third is limited
  probe.publish("broken/1", "{}", 1);
  REQUIRE(wait_until([&] { return metrics_contain(port, "routemq_messages_failed_total{route=\"broken\"} 1"); }, 10s));
  // The duration is recorded last, after "received" and "handled": once it counts 3, all three are done.
  REQUIRE(wait_until([&] { return metrics_contain(port, "routemq_handler_duration_seconds_count{route=\"jobs\"} 3"); }, 10s));
  const auto text = http_get(port, "/metrics").body;
  CHECK_THAT(text, Catch::Contains("routemq_messages_handled_total{route=\"jobs\"} 3"));  // limited is handled too
  CHECK_THAT(text, Catch::Contains("routemq_handler_duration_seconds_count{route=\"jobs\"} 3"));
  CHECK_THAT(text, Catch::Contains("routemq_middleware_decisions_total{middleware=\"rate_limit\",outcome=\"limited\"}"));
  CHECK_THAT(text, Catch::Contains("routemq_mqtt_connected 1"));
  CHECK_THAT(text, Catch::Contains("routemq_redis_state{state=\"connected\"} 1"));
  CHECK_THAT(text, Catch::Contains("# TYPE routemq_redis_commands_total counter"));

  // Redis gone: still ready (the app serves with defaults), and it says so.
  redis_server.kill9();
  REQUIRE(wait_until([&] { return !manager.is_connected(); }, 10s));
  ready = http_get(port, "/ready");
  CHECK(ready.status == 200);
  CHECK_THAT(ready.body, Catch::Contains("\"state\":\"degraded\""));
  CHECK(metrics_contain(port, "routemq_redis_state{state=\"connected\"} 0"));

  // The broker gone: not ready.
  broker.stop();
  REQUIRE(wait_until([&] { return http_get(port, "/ready").status == 503; }, 15s));
  CHECK(metrics_contain(port, "routemq_mqtt_connected 0"));

  CHECK(http_get(port, "/nope").status == 404);
  CHECK(http_get(port, "/metrics", "POST").status == 405);
  CHECK(http_raw(port, "nonsense\r\n\r\n").starts_with("HTTP/1.1 400"));
  CHECK(http_raw(port, "GET /" + std::string(10000, 'a')).starts_with("HTTP/1.1 431"));
  CHECK(http_get(port, "/health").status == 200);  // still serving after all that
}

TEST_CASE("operations endpoint: a port already taken stops run() with a clear error") {
  MosquittoServer broker;
  broker.start();
  App first(app_config_for(broker.port(), "metrics:\n  enabled: true\n  host: 127.0.0.1\n  port: 0\n"), Environment());
  first.route("a/{x}", [](Context&) {});
  RunningApp running(first);
  REQUIRE(running.wait_subscribed());
  const auto taken = first.operations_port();
  App second(app_config_for(broker.port(), fmt::format("metrics:\n  enabled: true\n  host: 127.0.0.1\n  port: {}\n", taken)),
             Environment());
  second.route("a/{x}", [](Context&) {});
  CHECK_THROWS_WITH(second.run(), Catch::Contains(fmt::format("cannot listen on 127.0.0.1:{}", taken)));
}

TEST_CASE("metrics settings are validated, with the variable named") {
  CHECK_THROWS_WITH(app_config_for(1883, "", {{"METRICS_PORT", "70000"}}), Catch::Contains("METRICS_PORT"));
  CHECK_THROWS_WITH(app_config_for(1883, "metrics:\n  enabled: maybe\n"), Catch::Contains("metrics.enabled"));
  CHECK(app_config_for(1883, "", {{"METRICS_ENABLED", "true"}, {"METRICS_PORT", "9200"}}).metrics.port == 9200);
}
