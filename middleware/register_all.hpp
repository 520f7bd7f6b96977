#pragma once
// Makes the Redis middleware available by name to YAML (`middleware: [rate_limit: {...}]`).
#include "core/app/app.hpp"
#include "core/handling/middleware_registry.hpp"

namespace routemq::middleware {

void register_all(MiddlewareRegistry& registry);
// The same, and their decision counters on the app's /metrics.
void register_all(App& app);

}  // namespace routemq::middleware
