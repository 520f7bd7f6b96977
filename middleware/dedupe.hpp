#pragma once
// dedupe: each message id is handled once within a window, across every app instance.
//
//   - dedupe:
//       id: "{payload.msg_id}"   # a key template; default "{hash}" (topic + payload)
//       window: 3600             # seconds an id stays "done"
//       lease: 30                # seconds a claim holds while the handler runs
//       in_flight: skip          # a copy arriving while the first is being handled: skip or retry
//       retry_wait: 5            # seconds to wait for the first copy's outcome with in_flight: retry
//       on_unavailable: allow    # Redis down: allow (with an in-process memory of recent ids) or deny
//
// Two phases, so an error or a crash mid-handler does not swallow the message for the whole window:
// a claim (with a lease) before the handler, "done" (with the window) after it succeeds, and the claim
// released when the handler fails. The handler sees ctx.get(middleware::dedupe_decision).
#include <string>

#include "core/handling/context_key.hpp"
#include "core/handling/middleware_registry.hpp"

namespace routemq::middleware {

struct DedupeDecision {
  std::string id;
  std::string outcome;  // "first", "duplicate", "in_flight", "unavailable"
};
inline constexpr ContextKey<DedupeDecision> dedupe_decision{"dedupe"};

void register_dedupe(MiddlewareRegistry& registry);

}  // namespace routemq::middleware
