#include "plugins/redis/redis_plugin.hpp"

#include "plugins/redis/redis_metrics.hpp"

namespace routemq::redis {

void RedisPlugin::configure(const ConfigNode& section, const Environment& environment, EffectiveConfig& effective) {
  manager_.configure(read_redis_config(section, environment, &effective));
}

void RedisPlugin::provide(Services& services, MiddlewareRegistry&) {
  // The app does not own the manager (it may be the process-wide one): share it without a deleter.
  services.provide(std::shared_ptr<RedisManager>(&manager_, [](RedisManager*) {}));
}

void RedisPlugin::start(asio::io_context&) { manager_.initialize(); }

void RedisPlugin::stop() { manager_.disconnect(); }

metrics::Families RedisPlugin::metrics() const { return redis_metrics(manager_.stats(), manager_.cache_stats_all_scopes()); }

PluginHealth RedisPlugin::health() const {
  if (!manager_.is_enabled()) return {PluginHealth::State::disabled, "ENABLE_REDIS=false: Redis calls are no-ops"};
  if (manager_.is_connected()) return {PluginHealth::State::ok, "connected"};
  return {PluginHealth::State::degraded, "Redis is unavailable: calls complete at once with their defaults"};
}

}  // namespace routemq::redis
