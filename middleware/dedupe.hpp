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

#include "core/handling/context.hpp"
#include "core/handling/context_key.hpp"
#include "core/handling/middleware_registry.hpp"

namespace routemq::redis {
class Pipeline;
}

namespace routemq::middleware {

struct DedupeDecision {
  std::string id;
  // "first", "taken_over" (first, over a claim an earlier incarnation of this client id left: it died),
  // "duplicate", "in_flight", "unavailable"
  std::string outcome;
};
inline constexpr ContextKey<DedupeDecision> dedupe_decision{"dedupe"};

// Marks the message's id done inside the handler's own pipeline, so what the pipeline stores and the
// marker reach Redis in one write: a kill -9 between the handler's writes and a separate marker would
// leave the writes without the marker, and the broker's redelivered copy would be handled again
// (counted twice). The middleware then writes no marker of its own. A no-op when the message did not
// go through dedupe as its first claim (no dedupe, Redis unavailable, a duplicate).
void mark_done_in(Context& ctx, redis::Pipeline& pipe);

void register_dedupe(MiddlewareRegistry& registry);

}  // namespace routemq::middleware
