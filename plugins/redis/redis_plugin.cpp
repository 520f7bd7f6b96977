#include "plugins/redis/redis_plugin.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "plugins/redis/redis_metrics.hpp"

namespace routemq::redis {
namespace {

// The manager of the first app that provided one and still exists; null outside an app.
std::atomic<RedisManager*> app_manager{nullptr};

// An app's manager: the process-wide one while it lives, unless another app's came first.
std::shared_ptr<RedisManager> make_app_manager(const RedisConfig& config, asio::io_context& io) {
  auto* manager = new RedisManager(config, io);
  RedisManager* none = nullptr;
  app_manager.compare_exchange_strong(none, manager, std::memory_order_acq_rel);
  return std::shared_ptr<RedisManager>(manager, [](RedisManager* ending) {
    RedisManager* expected = ending;
    app_manager.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel);
    delete ending;
  });
}

}  // namespace

RedisManager& redis_manager() {
  if (auto* serving = app_manager.load(std::memory_order_acquire)) return *serving;
  static RedisManager standalone = [] {
    RedisManager configured;  // from the environment and .env, as the plugin's
    if (configured.is_configured()) configured.start();
    return configured;
  }();
  return standalone;
}

void RedisPlugin::configure(const ConfigNode& section, const Environment& environment, EffectiveConfig& effective) {
  config_ = read_redis_config(section, environment, &effective);
}

// The app owns the manager (through its services) so that it ends before the app's io_context it runs on;
// the plugin, which a caller may keep longer, only watches it.
void RedisPlugin::provide(PluginContext& app) {
  auto manager = make_app_manager(config_, app.io);
  manager_ = manager;
  app.services.provide(std::move(manager));
  if (extension_) extension_(app);
}

RedisManager& RedisPlugin::manager() const {
  auto manager = manager_.lock();
  if (!manager) throw std::logic_error("the Redis plugin has no manager: its app was not built, or is gone");
  return *manager;  // the app's services keep it alive
}

void RedisPlugin::start() { manager().start(); }  // never waits: a Redis down is connected to later

// Commands still queued fail at once (unavailable) and their callers resume on the app's io_context,
// which still runs.
void RedisPlugin::stop() { manager().disconnect(); }

metrics::Families RedisPlugin::metrics() const {
  const auto& redis = manager();
  return redis_metrics(redis.stats(), redis.cache_stats_all_scopes());
}

PluginHealth RedisPlugin::health() const {
  const auto& redis = manager();
  if (!redis.is_configured()) return {PluginHealth::State::disabled, "ENABLE_REDIS=false: Redis calls are no-ops"};
  const auto stats = redis.stats();
  if (redis.is_connected()) {
    std::vector<std::string> unreachable;  // a cluster's masters none of our connections reach
    for (const auto& master : stats.cluster_masters)
      if (master.connections_ready == 0) unreachable.push_back(master.address);
    if (unreachable.empty()) return {PluginHealth::State::ok, "connected"};
    return {PluginHealth::State::degraded,
            fmt::format("{} of {} cluster master(s) unreachable ({}): their slots' calls complete at once with their "
                        "defaults, the other slots work", unreachable.size(), stats.cluster_masters.size(),
                        fmt::join(unreachable, ", "))};
  }
  const auto why = stats.last_failure;
  return {PluginHealth::State::degraded, "Redis is unavailable" + (why.empty() ? "" : " (" + why + ")") +
                                             ": calls complete at once with their defaults"};
}

}  // namespace routemq::redis
