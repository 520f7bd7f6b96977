#pragma once
// The Redis plugin: reads the `redis:` section (and ENABLE_REDIS, REDIS_* ...), builds the app's
// RedisManager on the app's io_context (handlers reach Redis and resume without a thread hand-off),
// offers it to handlers (redis::manager(ctx)) and middleware, connects it when the app starts,
// disconnects it after the handlers drained, and reports its health and figures.
//
//   run_cli(argc, argv, {.plugins = [] { return std::vector<std::shared_ptr<Plugin>>{
//                                           middleware::redis_plugin()}; }, ...});
//
// middleware::redis_plugin() is this plugin with the Redis middleware (rate_limit, dedupe, lock,
// session) as its extension: the middleware are built on the plugin, so the plugin cannot name them.
#include <functional>
#include <memory>

#include "core/app/plugin.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

class RedisPlugin : public Plugin {
 public:
  // Adds to the app, at provide time, what is built on the manager (middleware factories, their figures).
  using Extension = std::function<void(PluginContext& app)>;
  explicit RedisPlugin(Extension extension = {}) : extension_(std::move(extension)) {}

  std::string name() const override { return "redis"; }
  void configure(const ConfigNode& section, const Environment& environment, EffectiveConfig& effective) override;
  void provide(PluginContext& app) override;
  void start() override;
  void stop() override;
  PluginHealth health() const override;
  metrics::Families metrics() const override;

  // The app's manager, from provide() until the app is destroyed (it owns it); throws outside that.
  RedisManager& manager() const;

 private:
  Extension extension_;
  RedisConfig config_;
  std::weak_ptr<RedisManager> manager_;
};

}  // namespace routemq::redis
