// The example service's routes through routemq::testing::TestApp: in process, no broker, the YAML of
// config/app.yaml and a real redis-server (or none). What the harness promises its users is checked
// here on the routes this repository ships.
#include <catch2/catch.hpp>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "core/config/config_error.hpp"
#include "core/testing/test_app.hpp"
#include "middleware/register_all.hpp"
#include "plugins/redis/context_redis.hpp"
#include "routes/routes.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/redis_server.hpp"

using namespace routemq;
using namespace routemq::test;
using routemq::testing::Outcome;
using routemq::testing::TestApp;
using routemq::testing::TestAppOptions;
using namespace std::chrono_literals;

namespace {

TestAppOptions example_service(std::map<std::string, std::string> environment) {
  return {.config_file = example_config(),
          .environment = std::move(environment),
          .plugins = [] { return std::vector<std::shared_ptr<Plugin>>{middleware::redis_plugin()}; },
          .routes = example::add_routes};
}

std::map<std::string, std::string> with_redis(const RedisServer& redis) {
  return {{"ENABLE_REDIS", "true"}, {"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(redis.port())}};
}

nlohmann::json payload_of(const OutboundMessage& message) { return nlohmann::json::parse(message.payload); }

}  // namespace

TEST_CASE("test app: Redis disabled, every example route answers degraded, and bad input is rejected") {
  TestApp app(example_service({{"ENABLE_REDIS", "false"}}));
  const auto ack = app.deliver("devices/d1/telemetry", R"({"msg_id":"m1","value":21.5})", {.qos = 1});
  CHECK(ack.outcome == Outcome::handled);
  CHECK(ack.route == "telemetry");
  REQUIRE(ack.published.size() == 1);
  CHECK(ack.published[0].topic == "devices/d1/ack");
  CHECK(payload_of(ack.published[0]) == nlohmann::json{{"msg_id", "m1"}, {"count", nullptr}});
  // In-process dedupe: the copy is not handled again, and gets its first ack again.
  const auto copy = app.deliver("devices/d1/telemetry", R"({"msg_id":"m1","value":21.5})");
  CHECK(copy.outcome == Outcome::replayed);
  REQUIRE(copy.published.size() == 1);
  CHECK(payload_of(copy.published[0]) == nlohmann::json{{"msg_id", "m1"}, {"count", nullptr}});

  const auto invalid = app.deliver("devices/d1/telemetry", "oops");
  CHECK(invalid.outcome == Outcome::rejected);
  REQUIRE(invalid.published.size() == 1);
  CHECK(invalid.published[0].topic == "devices/d1/rejected");

  const auto command = app.deliver("devices/d1/commands/reboot", "{}");
  REQUIRE(command.published.size() == 1);
  CHECK(payload_of(command.published[0])["locked"] == false);
  CHECK(payload_of(command.published[0])["session_ephemeral"] == true);

  const auto unmatched = app.deliver("nobody/listens/here", "{}");
  CHECK(unmatched.outcome == Outcome::unmatched);
  CHECK(unmatched.route.empty());
  CHECK(app.published().size() == 4);  // everything since the start, in order
  CHECK(app.app().stats().unmatched == 1);
}

TEST_CASE("test app: MQTT 5 requests are replied to on their response topic with their correlation data") {
  TestApp app(example_service({{"ENABLE_REDIS", "false"}}));
  const auto answer = app.deliver("rpc/inventory", R"({"sku":"A-1"})",
                                  {.qos = 1, .response_topic = "replies/me", .correlation_data = "req-7"});
  CHECK(answer.outcome == Outcome::handled);
  REQUIRE(answer.published.size() == 1);
  CHECK(answer.published[0].topic == "replies/me");
  CHECK(answer.published[0].options.correlation_data == "req-7");
  CHECK(payload_of(answer.published[0])["cached"] == false);
}

TEST_CASE("test app: with a real Redis the example routes count, dedupe, cache and lock there") {
  RedisServer redis;
  redis.start();
  TestApp app(example_service(with_redis(redis)));
  REQUIRE(app.wait_ready(0ms));  // the constructor waited for the connection

  CHECK(payload_of(app.deliver("devices/d1/telemetry", R"({"msg_id":"a","value":20})").published.at(0))["count"] == 1);
  CHECK(payload_of(app.deliver("devices/d1/telemetry", R"({"msg_id":"b","value":21})").published.at(0))["count"] == 2);
  CHECK(redis.command({"HGET", "routemq:device:d1", "last_value"}) == "$4\r\n21.0\r\n");

  const auto first = app.deliver("rpc/inventory", R"({"sku":"A-1"})", {.response_topic = "r"});
  const auto second = app.deliver("rpc/inventory", R"({"sku":"A-1"})", {.response_topic = "r"});
  CHECK(payload_of(first.published.at(0))["cached"] == false);
  CHECK(payload_of(second.published.at(0))["cached"] == true);

  const auto command = payload_of(app.deliver("devices/d1/commands/reboot", "{}").published.at(0));
  CHECK(command["locked"] == true);
  CHECK(command["session_ephemeral"] == false);
  CHECK(payload_of(app.deliver("devices/d1/commands/reboot", "{}").published.at(0))["count"] == 2);

  // The plugin's services are the production ones: the test can look at Redis through them too.
  auto& manager = app.service<redis::RedisManager>();
  CHECK(manager.run_sync(manager.get("device:d1:telemetry_count")) == "2");
}

TEST_CASE("test app: messages sent at once are handled as the broker's would be: in order per device") {
  RedisServer redis;
  redis.start();
  TestApp app(example_service(with_redis(redis)));
  for (int i = 1; i <= 15; ++i)
    app.send(routemq::testing::as_received("devices/d2/telemetry",
                                           fmt::format(R"({{"msg_id":"{}","value":{}}})", i, i), {.qos = 1}));
  REQUIRE(app.wait_idle());
  const auto acks = app.published();
  REQUIRE(acks.size() == 15);  // within the burst of 20
  for (std::size_t i = 0; i < acks.size(); ++i) CHECK(payload_of(acks[i])["count"] == static_cast<int>(i) + 1);
  CHECK(redis.command({"LINDEX", "routemq:device:d2:recent", "0"}) == "$4\r\n15.0\r\n");  // the last value last
}

TEST_CASE("test app: handler failures are told apart from rejections, and config errors are located") {
  TestApp app({.routes = [](App& a) {
                 a.route("boom", [](Context&) { throw std::runtime_error("broken"); });
                 a.route("slow", [](Context& ctx) -> awaitable<void> {
                   asio::steady_timer timer(co_await asio::this_coro::executor, 300ms);
                   co_await timer.async_wait(asio::use_awaitable);
                   ctx.publish("slow/done", "1");
                 });
               }, .handled_within = 50ms});
  CHECK(app.deliver("boom", "").outcome == Outcome::failed);
  CHECK(app.deliver("slow", "").outcome == Outcome::still_running);
  CHECK(app.deliver("boom", "").outcome == Outcome::still_running);  // waits for what is in flight first
  REQUIRE(app.wait_idle(10s));
  CHECK(app.published().size() == 1);

  CHECK_THROWS_WITH(TestApp({.yaml = "app:\n  workers: many\n"}),
                    Catch::Contains("test app config:2:") && Catch::Contains("workers"));
}
