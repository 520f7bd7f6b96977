#pragma once
// session: a Redis hash per key (fields plus a version), loaded into the context before the handler
// and saved after it, with a sliding expiry.
//
//   - session:
//       key: "{device_id}"
//       ttl: 3600              # seconds; every message (load) and save slides it
//       expiry: sliding        # or fixed: the TTL runs from the session's creation
//       max_fields: 100        # (at most 4000) checked before writing: an oversized session is not saved
//       max_value_bytes: 65536
//       retries: 3             # a conflicting concurrent save: reload, re-apply the changes, try again
//
//   auto session = *ctx.get(middleware::current_session);
//   session->incr("commands.reboot");        // re-applied on a conflict: concurrent increments all count
//   session->set("last_command", "reboot");
//
// Saving compares the version it loaded, so a concurrent write is never silently overwritten: the
// changes (set, erase, incr) are applied again on the newer state. A device without a session gets an
// empty one, created by the save; a session removed while the handler ran is not brought back (counted
// as removed_meanwhile). With Redis unavailable the session is empty and ephemeral (never saved), and
// says so.
#include "core/handling/context_key.hpp"
#include "core/handling/middleware_registry.hpp"
#include "plugins/redis/recipes/session_store.hpp"

namespace routemq::middleware {

// The handler's view of the session (see plugins/redis/recipes/session_store.hpp).
using Session = redis::Session;
inline constexpr ContextKey<std::shared_ptr<Session>> current_session{"session"};

void register_session(MiddlewareRegistry& registry);

}  // namespace routemq::middleware
