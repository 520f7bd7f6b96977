#pragma once
// The Redis plugin: reads the `redis:` section (and ENABLE_REDIS, REDIS_* ...), connects the
// RedisManager when the app starts, offers it to handlers (redis::manager(ctx)) and middleware, and reports
// its health. By default it drives the process-wide redis_manager().
//
//   run_cli(argc, argv, {.plugins = [] { return std::vector<std::shared_ptr<Plugin>>{
//                                           std::make_shared<redis::RedisPlugin>()}; }, ...});
#include "core/app/plugin.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

class RedisPlugin : public Plugin {
 public:
  explicit RedisPlugin(RedisManager& manager = redis_manager()) : manager_(manager) {}

  std::string name() const override { return "redis"; }
  void configure(const ConfigNode& section, const Environment& environment, EffectiveConfig& effective) override;
  void provide(Services& services, MiddlewareRegistry& middleware) override;
  void start(asio::io_context& app_context) override;
  void stop() override;
  PluginHealth health() const override;
  metrics::Families metrics() const override;

  RedisManager& manager() { return manager_; }

 private:
  RedisManager& manager_;
};

}  // namespace routemq::redis
