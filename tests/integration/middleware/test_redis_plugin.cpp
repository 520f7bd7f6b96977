// The Redis plugin inside an app, through a real mosquitto and redis-server: its manager runs on the
// app's io_context and is the process-wide one while the app lives; its middleware come with it; the
// shutdown drains handlers awaiting Redis, then stops the manager, failing what is left at once.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>

#include "middleware/register_all.hpp"
#include "plugins/redis/context_redis.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/redis_server.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

AppConfig plugin_app_config(std::uint16_t mqtt_port, std::uint16_t redis_port, double shutdown_timeout_s,
                            const std::string& routes_yaml = "") {
  const std::string yaml = fmt::format(
      "app:\n  workers: 2\n  shutdown_timeout: {}\n  log_level: warn\n"
      "mqtt:\n  broker: 127.0.0.1\n  port: {}\n"
      "redis:\n  enabled: true\n  host: 127.0.0.1\n  port: {}\n  socket_timeout: 30\n  socket_connect_timeout: 1\n"
      "  reconnect: {{min_delay: 0.02, max_delay: 0.3}}\n{}",
      shutdown_timeout_s, mqtt_port, redis_port, routes_yaml);
  return load_app_config_text(yaml, "test.yaml", Environment(), {"redis"});
}

// A Lua script that keeps Redis busy for about `ms` milliseconds, then returns "slept".
std::vector<std::string> busy_script(int ms) {
  return {"EVAL",
          "local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]\n"
          "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= tonumber(ARGV[1]) * 1000\n"
          "return 'slept'",
          "0", std::to_string(ms)};
}

}  // namespace

TEST_CASE("the Redis plugin: its manager runs on the app's io_context and is redis_manager() while the app lives") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto plugin = middleware::redis_plugin();
  redis::RedisManager* manager = nullptr;
  {
    // dedupe from YAML with nothing registered by hand: the plugin brought it.
    App app(plugin_app_config(broker.port(), redis_server.port(), 5,
                              "routes:\n  r:\n    middleware: [{dedupe: {id: \"{payload.id}\", window: 60}}]\n"),
            Environment(), {plugin});
    manager = &plugin->manager();
    CHECK(&redis::redis_manager() == manager);
    app.route("jobs/{n}", [](Context& ctx) -> awaitable<void> {
         auto& redis = redis::manager(ctx);
         const bool on_app_thread = redis.io_context().get_executor().running_in_this_thread();
         const auto count = co_await redis.incr("jobs");  // resumes here, on the app's thread
         const bool resumed_on_app_thread = redis.io_context().get_executor().running_in_this_thread();
         ctx.publish("done/" + ctx.param("n"),
                     fmt::format("{} {} {}", on_app_thread, resumed_on_app_thread, count.value_or(-1)), {.qos = 1});
       })
        .name("r")
        .qos(1);
    RunningApp running(app);
    REQUIRE(running.wait_subscribed());
    REQUIRE(manager->wait_connected(10s));
    MqttProbe probe;
    probe.connect(broker.port());
    probe.subscribe("done/#", 1);
    probe.publish("jobs/1", R"({"id":"a"})", 1);
    auto first = probe.wait_for_topic("done/1", 10s);
    REQUIRE(first);
    CHECK(first->payload == "true true 1");
    // After jobs/1 is done, not beside it: two handlers of one id at once race for the claim.
    probe.publish("jobs/2", R"({"id":"a"})", 1);  // the same id: dropped by dedupe
    probe.publish("jobs/3", R"({"id":"b"})", 1);
    auto third = probe.wait_for_topic("done/3", 10s);
    REQUIRE(third);
    CHECK(third->payload == "true true 2");
  }  // the app drains: jobs/2, received before jobs/3, has been decided when it ends
  CHECK(redis_server.command({"GET", "routemq:jobs"}) == "$1\r\n2\r\n");  // jobs/2 was dropped
  // The app is gone and its manager with it: redis_manager() is a standalone one again.
  CHECK(&redis::redis_manager() != manager);
  CHECK_THROWS_WITH(plugin->manager(), Catch::Contains("its app was not built, or is gone"));
}

TEST_CASE("the Redis plugin: a handler awaiting Redis during the SIGTERM drain completes, Redis still serving it") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto plugin = middleware::redis_plugin();
  App app(plugin_app_config(broker.port(), redis_server.port(), 10), Environment(), {plugin});
  app.route("slow/{n}", [](Context& ctx) -> awaitable<void> {
       auto& redis = redis::manager(ctx);
       ctx.publish("started/" + ctx.param("n"), std::string("1"), {.qos = 1});
       auto slept = co_await redis.command(busy_script(600));  // SIGTERM arrives while this runs
       // Computed before the co_await: GCC 12 destroys a ?: temporary inside a co_await expression twice.
       const std::string outcome = slept.succeeded() ? slept.reply.text : slept.error_text();
       co_await redis.set("drained/" + ctx.param("n"), outcome);
     })
      .name("slow")
      .qos(1);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  REQUIRE(plugin->manager().wait_connected(10s));
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("started/#", 1);
  probe.publish("slow/1", "{}", 1);
  REQUIRE(probe.wait_for_topic("started/1", 10s));
  std::raise(SIGTERM);  // the app's signal set takes it: drain, stop the plugin, stop the io_context
  REQUIRE(wait_until([&] { return running.finished(); }, 20s));
  CHECK(running.exit_code() == 0);
  CHECK(redis_server.command({"GET", "routemq:drained/1"}) == "$5\r\nslept\r\n");
}

TEST_CASE("the Redis plugin: stopped while commands are in flight, it fails them at once and their handlers finish") {
  MosquittoServer broker;
  broker.start();
  RedisServer redis_server;
  redis_server.start();
  auto plugin = middleware::redis_plugin();
  // A short drain: the handlers below are abandoned, still awaiting a Redis that does not answer.
  App app(plugin_app_config(broker.port(), redis_server.port(), 0.2), Environment(), {plugin});
  auto failed_unavailable = std::make_shared<std::atomic<int>>(0);
  auto other_outcomes = std::make_shared<std::atomic<int>>(0);
  auto awaiting = std::make_shared<std::atomic<int>>(0);
  app.route("stuck/{n}", [awaiting, failed_unavailable, other_outcomes](Context& ctx) -> awaitable<void> {
       ++*awaiting;
       std::vector<std::string> get{"GET", "k"};  // GCC 12 cannot brace-initialise it inside a coroutine
       auto result = co_await redis::manager(ctx).command(std::move(get));
       ++*(result.unavailable() ? failed_unavailable : other_outcomes);
     })
      .name("stuck")
      .qos(1);
  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  REQUIRE(plugin->manager().wait_connected(10s));
  redis_server.pause();  // connected but silent; the command timeout (30 s) is far away
  MqttProbe probe;
  probe.connect(broker.port());
  constexpr int messages = 20;
  for (int i = 0; i < messages; ++i) probe.publish("stuck/" + std::to_string(i), "{}", 1);
  REQUIRE(wait_until([&] { return awaiting->load() == messages; }, 10s));
  running.stop();  // drain gives up after 0.2 s; the plugin's stop fails the commands; the handlers end
  redis_server.resume();
  CHECK(failed_unavailable->load() == messages);
  CHECK(other_outcomes->load() == 0);
}
