#include "middleware/register_all.hpp"

#include "middleware/decision_counters.hpp"
#include "middleware/dedupe.hpp"
#include "middleware/lock.hpp"
#include "middleware/rate_limit.hpp"
#include "middleware/session.hpp"

namespace routemq::middleware {

void register_all(MiddlewareRegistry& registry) {
  register_rate_limit(registry);
  register_dedupe(registry);
  register_lock(registry);
  register_session(registry);
}

void register_all(PluginContext& app) {
  register_all(app.middleware);
  app.add_metrics_source(decision_metrics);
}

std::shared_ptr<redis::RedisPlugin> redis_plugin() {
  return std::make_shared<redis::RedisPlugin>([](PluginContext& app) { register_all(app); });
}

}  // namespace routemq::middleware
