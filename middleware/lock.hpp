#pragma once
// lock: one handler at a time per key, across every app instance.
//
//   - lock:
//       key: "{device_id}"
//       ttl: 10                 # seconds; renewed about every ttl/3 while the handler runs
//       wait: 5                 # seconds to wait for the lock (jittered retries), then give up
//       contention_topic: "devices/{device_id}/busy"   # optional: published to when giving up
//       on_unavailable: proceed # Redis down: proceed unlocked (counted, logged) or skip
//
// It is a redis::DistributedLock (see plugins/redis/recipes/distributed_lock.hpp): a token set with NX and a
// TTL, released by compare-and-delete, with a fencing number strictly increasing per key for the
// handler to pass to whatever it protects. If a renewal fails, lost() becomes true: check it before
// side effects. Running unlocked (Redis unavailable, proceed), acquired() is false and fence() 0.
//   auto& lock = **ctx.get(middleware::held_lock);
#include <memory>

#include "core/handling/context_key.hpp"
#include "core/handling/middleware_registry.hpp"
#include "plugins/redis/recipes/distributed_lock.hpp"

namespace routemq::middleware {

inline constexpr ContextKey<std::shared_ptr<redis::DistributedLock>> held_lock{"lock"};

void register_lock(MiddlewareRegistry& registry);

}  // namespace routemq::middleware
