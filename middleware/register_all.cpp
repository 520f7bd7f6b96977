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

void register_all(App& app) {
  register_all(app.middleware_registry());
  app.add_metrics_source(decision_metrics);
}

}  // namespace routemq::middleware
