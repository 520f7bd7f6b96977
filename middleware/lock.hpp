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
// The lock is a random token set with NX and a TTL, released by compare-and-delete, so a holder
// can never delete another owner's lock. Each acquisition gets a fencing number, strictly increasing
// per key, for the handler to pass to whatever it protects. If a renewal fails (the lock expired or
// was taken), `lost` becomes true: check it before side effects.
//   auto lock = ctx.get<std::shared_ptr<middleware::LockState>>("lock");
#include <atomic>
#include <memory>
#include <string>

#include "core/handling/middleware_registry.hpp"

namespace routemq::middleware {

struct LockState {
  std::string key;
  long long fence = 0;            // 0 when running unlocked (Redis unavailable, proceed)
  bool locked = false;
  std::atomic<bool> lost{false};  // set by the renewal when the lock could not be kept
};

void register_lock(MiddlewareRegistry& registry);

}  // namespace routemq::middleware
