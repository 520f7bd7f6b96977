#pragma once
// Makes the Redis middleware available by name to YAML (`middleware: [rate_limit: {...}]`).
#include "core/handling/middleware_registry.hpp"

namespace routemq::middleware {

void register_all(MiddlewareRegistry& registry);

}  // namespace routemq::middleware
