// __NAME__'s routes, in process: no broker, the middleware from config/app.yaml, Redis as configured
// by the environment (REDIS_HOST=... to test against a real one; disabled otherwise).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>

#include <routemq/testing.hpp>

#include "routes.hpp"

using routemq::testing::Outcome;

namespace {

routemq::testing::TestAppOptions service(std::map<std::string, std::string> environment) {
  return {.config_file = "config/app.yaml",  // ctest runs this from the project's folder
          .environment = std::move(environment),
          .plugins = [] { return std::vector<std::shared_ptr<routemq::Plugin>>{routemq::middleware::redis_plugin()}; },
          .routes = __IDENT__::add_routes};
}

routemq::testing::TestAppOptions without_redis() { return service({{"ENABLE_REDIS", "false"}}); }

nlohmann::json payload_of(const routemq::OutboundMessage& message) { return nlohmann::json::parse(message.payload); }

}  // namespace

TEST_CASE("a greeting is answered on its reply topic; anything else is rejected") {
  routemq::testing::TestApp app(without_redis());
  const auto delivery = app.deliver("greetings/ada", R"({"text": "welcome"})", {.qos = 1});
  CHECK(delivery.outcome == Outcome::handled);
  REQUIRE(delivery.published.size() == 1);
  CHECK(delivery.published[0].topic == "greetings/ada/reply");
  CHECK(payload_of(delivery.published[0])["greeting"] == "Hello, ada: welcome");

  CHECK(app.deliver("greetings/ada", "not json").outcome == Outcome::rejected);
  CHECK(app.deliver("greetings/ada", R"({"text": 1})").outcome == Outcome::rejected);
  CHECK(app.deliver("greetings/ada/extra", "{}").outcome == Outcome::unmatched);
}

TEST_CASE("config/app.yaml's rate limit: five greetings per name at once, then one a second") {
  routemq::testing::TestApp app(without_redis());
  for (int i = 0; i < 5; ++i)
    CHECK(app.deliver("greetings/bob", R"({"text": "hi"})").published.at(0).topic == "greetings/bob/reply");
  const auto limited = app.deliver("greetings/bob", R"({"text": "hi"})");
  REQUIRE(limited.published.size() == 1);
  CHECK(limited.published[0].topic == "greetings/bob/rejected");
  CHECK(app.deliver("greetings/carol", R"({"text": "hi"})").published.at(0).topic == "greetings/carol/reply");
}
@@if redis

TEST_CASE("readings are acknowledged with no count when Redis is disabled") {
  routemq::testing::TestApp app(without_redis());
  const auto delivery = app.deliver("sensors/s1/reading", R"({"msg_id": "m1", "value": 21.5})");
  REQUIRE(delivery.published.size() == 1);
  CHECK(delivery.published[0].topic == "sensors/s1/ack");
  CHECK(payload_of(delivery.published[0])["count"].is_null());
}

TEST_CASE("with a real Redis (REDIS_HOST), readings are counted there and a repeated msg_id is handled once") {
  const char* host = std::getenv("REDIS_HOST");
  if (!host) {
    WARN("not run: REDIS_HOST is not set");
    return;
  }
  // A key prefix of this run's own: earlier runs' counts do not matter.
  const auto prefix = "test-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + ":";
  const char* port = std::getenv("REDIS_PORT");
  routemq::testing::TestApp app(service(
      {{"ENABLE_REDIS", "true"}, {"REDIS_HOST", host}, {"REDIS_PORT", port ? port : "6379"}, {"REDIS_KEY_PREFIX", prefix}}));
  REQUIRE(app.wait_ready(std::chrono::seconds(5)));

  CHECK(payload_of(app.deliver("sensors/s1/reading", R"({"msg_id": "m1", "value": 20})").published.at(0))["count"] == 1);
  CHECK(payload_of(app.deliver("sensors/s1/reading", R"({"msg_id": "m2", "value": 21})").published.at(0))["count"] == 2);
  CHECK(app.deliver("sensors/s1/reading", R"({"msg_id": "m2", "value": 21})").published.empty());  // a duplicate
  auto& redis = app.service<routemq::redis::RedisManager>();
  CHECK(redis.run_sync(redis.hget("sensor:s1", "last_value")) == "21");
  CHECK(redis.run_sync(redis.del({"sensor:s1", "sensor:s1:readings"})) == 2);
}
@@end
