#pragma once
// An app instance with the Redis plugin and the Redis middleware, serving one route, for middleware
// integration tests against a real mosquitto and redis-server (plain, TLS only, or behind Sentinel).
#include <functional>
#include <memory>
#include <string>

#include "middleware/register_all.hpp"
#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/redis_plugin.hpp"
#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/mqtt_probe.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/sentinel_group.hpp"
#include "tests/support/test_certificates.hpp"

namespace routemq::test {

// The Redis that instances share: a plain redis-server, one serving only TLS, or a master (and its
// replica) behind three Sentinels. connection_yaml() is what an instance's redis: section says to
// reach it; data() is the server holding the data, for checks through its plaintext port.
class SharedRedis {
 public:
  enum class Kind { plain, tls, sentinel, cluster };
  explicit SharedRedis(Kind kind = Kind::plain) : kind_(kind) {
    if (kind == Kind::sentinel) {
      group_ = std::make_unique<SentinelGroup>();
      return;
    }
    if (kind == Kind::cluster) {
      cluster_ = std::make_unique<RedisCluster>();
      return;
    }
    server_ = std::make_unique<RedisServer>(
        kind == Kind::tls ? RedisOptions{.tls = RedisTlsOptions{test_certificates().server}} : RedisOptions{});
    server_->start();
  }
  std::string connection_yaml() const {
    if (kind_ == Kind::cluster) return fmt::format("  cluster: {{nodes: ['127.0.0.1:{}']}}\n", cluster_->node(0).port());
    if (kind_ == Kind::sentinel)
      return fmt::format("  sentinel: {{nodes: [{}], master_name: {}}}\n", group_->sentinel_list(), SentinelGroup::master_name);
    if (kind_ == Kind::tls)
      return fmt::format("  host: 127.0.0.1\n  port: {}\n  tls: {{enabled: true, ca_file: \"{}\"}}\n", server_->tls_port(),
                         test_certificates().ca);
    return fmt::format("  host: 127.0.0.1\n  port: {}\n", server_->port());
  }
  // The server that holds `key` (on a cluster: the master of its slot).
  RedisServer& holding(const std::string& key) {
    if (cluster_) return *cluster_->node_on(cluster_->master_port_of(redis::hash_slot(key)));
    return group_ ? group_->master() : *server_;
  }

 private:
  Kind kind_;
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<SentinelGroup> group_;
  std::unique_ptr<RedisCluster> cluster_;
};

struct MiddlewareInstance {
  std::shared_ptr<redis::RedisPlugin> plugin = middleware::redis_plugin();
  std::unique_ptr<App> app;
  redis::RedisManager* manager = nullptr;  // the plugin's, on the app's io_context
  std::unique_ptr<RunningApp> running;

  // Serves `pattern` as route "r", with `middleware_yaml` (a YAML flow list) as its middleware.
  MiddlewareInstance(std::uint16_t mqtt_port, std::uint16_t redis_port, const std::string& pattern,
                     const std::string& middleware_yaml, std::function<awaitable<void>(Context&)> handler)
      : MiddlewareInstance(mqtt_port, fmt::format("  host: 127.0.0.1\n  port: {}\n", redis_port), pattern,
                           middleware_yaml, std::move(handler)) {}
  // The same on `redis` (plain, TLS or Sentinel).
  MiddlewareInstance(std::uint16_t mqtt_port, const SharedRedis& redis, const std::string& pattern,
                     const std::string& middleware_yaml, std::function<awaitable<void>(Context&)> handler)
      : MiddlewareInstance(mqtt_port, redis.connection_yaml(), pattern, middleware_yaml, std::move(handler)) {}
  // `redis_connection_yaml`: the redis: section's lines that say where Redis is.
  MiddlewareInstance(std::uint16_t mqtt_port, const std::string& redis_connection_yaml, const std::string& pattern,
                     const std::string& middleware_yaml, std::function<awaitable<void>(Context&)> handler) {
    const std::string yaml = fmt::format(
        "redis:\n  enabled: true\n{}  socket_timeout: 1\n  socket_connect_timeout: 1\n"
        "  reconnect: {{min_delay: 0.02, max_delay: 0.3}}\n"
        "routes:\n  r:\n    middleware: {}\n",
        redis_connection_yaml, middleware_yaml);
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
