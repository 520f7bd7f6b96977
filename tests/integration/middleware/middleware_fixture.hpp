#pragma once
// An app instance with the Redis plugin and the Redis middleware, serving one route, for middleware
// integration tests against a real mosquitto and redis-server.
#include <functional>
#include <memory>
#include <string>

#include "middleware/register_all.hpp"
#include "plugins/redis/redis_plugin.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/mqtt_probe.hpp"

namespace routemq::test {

struct MiddlewareInstance {
  std::shared_ptr<redis::RedisPlugin> plugin = middleware::redis_plugin();
  std::unique_ptr<App> app;
  redis::RedisManager* manager = nullptr;  // the plugin's, on the app's io_context
  std::unique_ptr<RunningApp> running;

  // Serves `pattern` as route "r", with `middleware_yaml` (a YAML flow list) as its middleware.
  MiddlewareInstance(std::uint16_t mqtt_port, std::uint16_t redis_port, const std::string& pattern,
                     const std::string& middleware_yaml, std::function<awaitable<void>(Context&)> handler) {
    const std::string yaml = fmt::format(
        "redis:\n  enabled: true\n  host: 127.0.0.1\n  port: {}\n  socket_timeout: 1\n  socket_connect_timeout: 1\n"
        "  reconnect: {{min_delay: 0.02, max_delay: 0.3}}\n"
        "routes:\n  r:\n    middleware: {}\n",
        redis_port, middleware_yaml);
    app = std::make_unique<App>(app_config_for(mqtt_port, yaml), Environment(),
                                std::vector<std::shared_ptr<Plugin>>{plugin});
    manager = &plugin->manager();
    app->route(pattern, std::move(handler)).name("r").qos(1).shared();
    running = std::make_unique<RunningApp>(*app);
  }

  bool ready() { return running->wait_subscribed() && manager->wait_connected(std::chrono::seconds(10)); }
};

inline std::size_t count_prefix(MqttProbe& probe, const std::string& prefix, std::size_t at_least,
                                std::chrono::milliseconds deadline) {
  return probe.wait_count([&](const ReceivedMessage& m) { return m.topic.rfind(prefix, 0) == 0; }, at_least,
                          deadline);
}

}  // namespace routemq::test
