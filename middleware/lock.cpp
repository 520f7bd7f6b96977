#include "middleware/lock.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"
#include "middleware/decision_counters.hpp"
#include "middleware/key_scope.hpp"
#include "middleware/key_template.hpp"
#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::middleware {
namespace {

struct LockMiddlewareOptions {
  KeyTemplate key = KeyTemplate::parse("{topic}");
  KeyScope key_scope;
  redis::LockOptions lock;
  std::optional<KeyTemplate> contention_topic;
  bool proceed_when_unavailable = true;
};

LockMiddlewareOptions read_lock_options(const MiddlewareSetup& setup) {
  SectionReader r(setup.options, setup.environment);
  LockMiddlewareOptions o;
  o.key = KeyTemplate::from_option(setup.options, "key", r.string("key", "{topic}", {.non_empty = true}));
  o.key_scope = KeyScope::read(r);
  o.lock.ttl = r.seconds("ttl", 10, {.min = 0.01, .max = 86400});
  o.lock.wait = r.seconds("wait", 5, {.min = 0, .max = 3600});
  if (auto topic = r.optional_string("contention_topic", {.non_empty = true}))
    o.contention_topic = KeyTemplate::from_option(setup.options, "contention_topic", *topic);
  o.proceed_when_unavailable = r.string("on_unavailable", "proceed", {.one_of = {"proceed", "skip"}}) == "proceed";
  r.finish();
  return o;
}

class Lock {
 public:
  explicit Lock(LockMiddlewareOptions options) : options_(std::move(options)) {}

  awaitable<void> handle(Context& ctx, Next next) {
    const auto key = options_.key.render(ctx);
    if (!key.ok()) {
      decision_counters().count("lock", "key_error");
      throw InvalidPayload("lock: " + key.error);
    }
    auto lock = std::make_shared<redis::DistributedLock>(
        co_await redis::DistributedLock::acquire(redis::manager(ctx), options_.key_scope.apply(ctx, key.key), options_.lock));
    ctx.set(held_lock, lock);
    switch (lock->outcome()) {
      case redis::DistributedLock::Outcome::unavailable:
        decision_counters().count("lock", "unavailable");
        if (!options_.proceed_when_unavailable) co_return;
        spdlog::warn("lock '{}': Redis unavailable, handling unlocked", key.key);
        co_await next();
        co_return;
      case redis::DistributedLock::Outcome::busy:
        decision_counters().count("lock", "locked");
        if (options_.contention_topic)
          if (auto topic = options_.contention_topic->render(ctx); topic.ok())
            ctx.publish(topic.key, nlohmann::json{{"error", "locked"}, {"key", key.key}}, {.qos = 1});
        co_return;
      case redis::DistributedLock::Outcome::acquired: break;
    }
    decision_counters().count("lock", "acquired");
    co_await next();  // on an exception the guard's destructor releases in the background
    if (lock->lost()) decision_counters().count("lock", "lost");
    co_await lock->release();
  }

 private:
  LockMiddlewareOptions options_;
};

}  // namespace

void register_lock(MiddlewareRegistry& registry) {
  registry.add("lock", [](const MiddlewareSetup& setup) { return make_middleware("lock", Lock(read_lock_options(setup))); });
}

}  // namespace routemq::middleware
