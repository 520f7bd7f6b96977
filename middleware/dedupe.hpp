#pragma once
// dedupe: each message id is handled once within a window, across every app instance, and with
// `replay` every copy gets the first copy's answers.
//
//   - dedupe:
//       id: "{payload.msg_id}"   # a key template; default "{hash}" (topic + payload)
//       window: 3600             # seconds an id stays "done"
//       lease: 5                 # seconds a claim holds without its process: renewed every third
//                                #   of it while the handler runs, so the claim of an instance that
//                                #   died frees its id within a lease
//       replay: false            # true: a duplicate is answered again with what the first copy's
//                                #   handler published (ctx.publish, ctx.reply), byte for byte
//       replay_max_bytes: 65536  # answers kept per id; above it the id is kept done without answers
//       fingerprint: payload     # what the id stands for: payload, none, or a key template; the same
//                                #   id with another fingerprint is refused (id_reused)
//       reject_topic: "devices/{device_id}/rejected"  # where id_reused is answered ("response": the
//                                #   MQTT 5 response topic); unset: only counted and logged
//       in_flight: skip          # a copy arriving while the first is being handled: skip or retry
//                                #   (wait for its outcome); retry by default with replay
//       retry_wait: 5            # seconds to wait for the first copy's outcome with in_flight: retry
//       on_missing_id: reject    # the id cannot be built for a message: reject it, or handle it
//                                #   without deduplicating (an optional MQTT 5 correlation data)
//       on_unavailable: allow    # Redis down: allow (with an in-process memory of recent ids and
//                                #   their answers: memory entries, memory_bytes of answers) or deny
//
// Two phases, so an error or a crash mid-handler does not swallow the message for the whole window:
// a claim (with a lease) before the handler, "done" (with the window, and the answers) after it
// succeeds, and the claim released when the handler fails. The handler sees
// ctx.get(middleware::dedupe_decision).
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
  // "first"         handled; "taken_over": first, over a claim an earlier incarnation of this client
  //                 id left (it died)
  // "rebuilt"       first, over the work of a process that died after storing it and before keeping its
  //                 answers: the handler runs again, its marked pipeline (mark_done_in) answered from
  //                 the replies kept with the work instead of being run, so its answers go out again
  //                 and nothing is stored twice
  // "replayed"      a duplicate, answered again with the first copy's answers
  // "duplicate"     a duplicate, skipped (no replay, or nothing to answer)
  // "answers_lost"  as "rebuilt", where no replies were kept (a cluster): skipped, nothing to answer (logged)
  // "in_flight"     another copy is being handled: skipped
  // "id_reused"     the id was used for other content: refused (reject_topic)
  // "unavailable"   Redis did not answer: decided by on_unavailable
  // "no_id"         on_missing_id: handle, and the id could not be built
  std::string outcome;
};
inline constexpr ContextKey<DedupeDecision> dedupe_decision{"dedupe"};

// Marks the message's id done inside the handler's own pipeline, so what the pipeline stores and the
// marker reach Redis in one write: a kill -9 between the handler's writes and a separate marker would
// leave the writes without the marker, and the broker's redelivered copy would be handled again
// (counted twice). The middleware then writes no marker of its own; with replay it still keeps the
// answers after the handler (a copy meeting the marker meanwhile waits for them), and the pipeline
// runs as one script that keeps its replies with the marker, so that a copy coming after a crash in
// between is answered again from them ("rebuilt"): the handler must then take the same path, which a
// handler whose answers follow from the message and its pipeline's replies does. A no-op when the
// message did not go through dedupe as its first claim (no dedupe, Redis unavailable, a duplicate).
void mark_done_in(Context& ctx, redis::Pipeline& pipe);

void register_dedupe(MiddlewareRegistry& registry);

}  // namespace routemq::middleware
