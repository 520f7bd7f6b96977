#include "middleware/session.hpp"

#include <spdlog/spdlog.h>

#include "core/config/section_reader.hpp"
#include "middleware/decision_counters.hpp"
#include "middleware/key_scope.hpp"
#include "middleware/key_template.hpp"
#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::middleware {
namespace {

struct SessionMiddlewareOptions {
  KeyTemplate key = KeyTemplate::parse("{topic}");
  KeyScope key_scope;
  redis::SessionOptions store;
};

const char* outcome_name(redis::SaveStatus status) {
  switch (status) {
    case redis::SaveStatus::saved: return "saved";
    case redis::SaveStatus::unchanged: return "unchanged";
    case redis::SaveStatus::too_large: return "too_large";
    case redis::SaveStatus::conflict: return "conflict_gave_up";
    case redis::SaveStatus::missing: return "removed_meanwhile";
    case redis::SaveStatus::unavailable: return "save_unavailable";
    case redis::SaveStatus::failed: return "save_failed";
    case redis::SaveStatus::ephemeral: return "ephemeral";
  }
  return "unknown";
}

const char* load_outcome(redis::SessionRead::Status status) {
  switch (status) {
    case redis::SessionRead::Status::found: return "loaded";
    case redis::SessionRead::Status::missing: return "new";
    case redis::SessionRead::Status::unavailable: return "unavailable";
  }
  return "unknown";
}

// Loads the session before the handler and saves its changes after it.
class SessionMiddleware {
 public:
  explicit SessionMiddleware(SessionMiddlewareOptions options) : options_(std::move(options)) {}

  awaitable<void> handle(Context& ctx, Next next) {
    const auto key = options_.key.render(ctx);
    if (!key.ok()) {
      decision_counters().count("session", "key_error");
      throw InvalidPayload("session: " + key.error);
    }
    redis::SessionStore store(redis::manager(ctx), options_.store);
    const auto id = options_.key_scope.apply(ctx, key.key);
    // Under a sliding expiry every message keeps its device's session alive, changed or not.
    auto read = co_await store.get(id, {.extend_ttl = options_.store.expiry == redis::SessionExpiry::sliding});
    decision_counters().count("session", load_outcome(read.status));
    // Missing: an empty session for the handler to fill in, created by the save below.
    auto session = std::make_shared<Session>(std::move(read.session));
    ctx.set(current_session, session);
    co_await next();
    if (session->ephemeral() || !session->changed()) co_return;
    const auto saved = co_await store.save(id, *session);
    decision_counters().count("session", outcome_name(saved.status));
    if (!saved.ok()) spdlog::warn("session '{}' not saved: {}", id, saved.problem);
  }

 private:
  SessionMiddlewareOptions options_;
};

SessionMiddlewareOptions read_session_options(const MiddlewareSetup& setup) {
  SectionReader r(setup.options, setup.environment);
  SessionMiddlewareOptions o;
  o.key = KeyTemplate::from_option(setup.options, "key", r.string("key", "{topic}", {.non_empty = true}));
  o.key_scope = KeyScope::read(r);
  o.store.ttl = r.seconds("ttl", 3600, {.min = 0.01, .max = 86400.0 * 365});
  o.store.expiry = r.string("expiry", "sliding", {.one_of = {"sliding", "fixed"}}) == "fixed" ? redis::SessionExpiry::fixed
                                                                                              : redis::SessionExpiry::sliding;
  o.store.max_fields = static_cast<std::size_t>(r.integer("max_fields", 100, {.min = 1, .max = 4000}));
  o.store.max_value_bytes =
      static_cast<std::size_t>(r.integer("max_value_bytes", 65536, {.min = 1, .max = 512LL << 20}));
  o.store.retries = static_cast<int>(r.integer("retries", 3, {.min = 0, .max = 100}));
  r.finish();
  return o;
}

}  // namespace

void register_session(MiddlewareRegistry& registry) {
  registry.add("session", [](const MiddlewareSetup& setup) {
    return make_middleware("session", SessionMiddleware(read_session_options(setup)));
  });
}

}  // namespace routemq::middleware
