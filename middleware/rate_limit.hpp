#pragma once
// rate_limit: at most `rate` messages per `period` per key (GCRA by default: `burst` at once, then one
// every period/rate), decided atomically in Redis, so every app instance shares the same limit.
//
//   routes:
//     telemetry:
//       middleware:
//         - rate_limit:
//             key: "{device_id}"         # a key template (see key_template.hpp)
//             rate: 10                   # messages ...
//             period: 60                 # ... per this many seconds
//             burst: 10                  # GCRA: how many at once (default: rate)
//             cost: 1                    # per message
//             strategy: gcra             # or fixed_window, sliding_window, token_bucket
//             reject_topic: "devices/{device_id}/rejected"   # optional; "response" = MQTT 5 response topic
//             whitelist: ["devices/admin/#"]                 # MQTT topic filters never limited
//             whitelist_keys: ["ops-*"]                      # nor keys matching these globs
//             on_unavailable: local      # Redis down: local (in-process GCRA), allow or deny
//
// The handler sees the decision: ctx.get(middleware::rate_limit_decision). A limited message skips
// the handler; with reject_topic, {"msg_id", "error": "rate_limited", "retry_after_ms"} is published.
#include <cstdint>
#include <string>

#include "core/handling/context_key.hpp"
#include "core/handling/middleware_registry.hpp"
#include "plugins/redis/recipes/rate_limiter.hpp"

namespace routemq::middleware {

// allowed, limit, remaining, retry_after_ms, reset_after_ms, and source: "redis", "local" (Redis
// down), "whitelist", "allow" / "deny" (on_unavailable).
using RateLimitDecision = redis::RateLimitDecision;
inline constexpr ContextKey<RateLimitDecision> rate_limit_decision{"rate_limit"};

// Registers the "rate_limit" factory.
void register_rate_limit(MiddlewareRegistry& registry);

}  // namespace routemq::middleware
