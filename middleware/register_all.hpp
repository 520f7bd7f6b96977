#pragma once
// Makes the Redis middleware available by name to YAML (`middleware: [rate_limit: {...}]`).
//
//   .plugins = [] { return std::vector<std::shared_ptr<Plugin>>{middleware::redis_plugin()}; }
#include <memory>

#include "core/app/plugin.hpp"
#include "core/handling/middleware_registry.hpp"
#include "plugins/redis/redis_plugin.hpp"

namespace routemq::middleware {

// The Redis plugin that brings rate_limit, dedupe, lock and session: enabling it is all a service
// does to use Redis and its middleware from YAML.
std::shared_ptr<redis::RedisPlugin> redis_plugin();

// The four factories alone, for code that builds chains without an app.
void register_all(MiddlewareRegistry& registry);
// The same, and their decision counters on the app's /metrics: the plugin's extension.
void register_all(PluginContext& app);

}  // namespace routemq::middleware
