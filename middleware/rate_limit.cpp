#include "middleware/rate_limit.hpp"

#include <fnmatch.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"
#include "core/handling/eventual.hpp"
#include "core/routing/topic_filter.hpp"
#include "middleware/decision_counters.hpp"
#include "middleware/key_scope.hpp"
#include "middleware/key_template.hpp"
#include "middleware/rejection.hpp"
#include "middleware/local_gcra.hpp"
#include "plugins/redis/recipes/rate_limiter.hpp"
#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::middleware {
namespace {

using redis::RateLimitStrategy;
enum class OnUnavailable { local, allow, deny };

struct RateLimitOptions {
  KeyTemplate key = KeyTemplate::parse("{topic}");
  KeyScope key_scope;
  long long rate = 0;
  double period_s = 1;
  long long burst = 0;
  long long cost = 1;
  RateLimitStrategy strategy = RateLimitStrategy::gcra;
  Rejection rejection;
  std::vector<std::string> whitelist;       // MQTT topic filters
  std::vector<std::string> whitelist_keys;  // glob patterns over the rendered key
  OnUnavailable on_unavailable = OnUnavailable::local;
};

RateLimitOptions read_rate_limit_options(const MiddlewareSetup& setup) {
  SectionReader r(setup.options, setup.environment);
  RateLimitOptions o;
  o.key = KeyTemplate::from_option(setup.options, "key", r.string("key", "{topic}", {.non_empty = true}));
  o.key_scope = KeyScope::read(r);
  o.rate = r.integer("rate", 0, {.min = 1, .max = 1'000'000'000});
  if (o.rate == 0) throw ConfigError(fmt::format("{}: is required (expected an integer >= 1)", setup.options.child("rate").where()));
  o.period_s = r.number("period", 1, {.min = 0.001, .max = 86400.0 * 365});
  if (o.period_s * 1e6 / static_cast<double>(o.rate) < 1)
    throw ConfigError(fmt::format("{}: {} per {} s is more than one message per microsecond (the limiter's resolution)",
                                  setup.options.child("rate").where(), o.rate, o.period_s));
  o.burst = r.integer("burst", o.rate, {.min = 1, .max = 1'000'000'000});
  o.cost = r.integer("cost", 1, {.min = 1, .max = 1'000'000});
  const auto strategy =
      r.string("strategy", "gcra", {.one_of = {"gcra", "fixed_window", "sliding_window", "token_bucket"}});
  o.strategy = strategy == "fixed_window"     ? RateLimitStrategy::fixed_window
               : strategy == "sliding_window" ? RateLimitStrategy::sliding_window
               : strategy == "token_bucket"   ? RateLimitStrategy::token_bucket
                                              : RateLimitStrategy::gcra;
  o.rejection = Rejection::read(r, setup.options);
  // A cost above what the limiter can ever hold would deny every message: refused here, not found in
  // production as a route that never passes anything.
  const bool windowed = o.strategy == RateLimitStrategy::fixed_window || o.strategy == RateLimitStrategy::sliding_window;
  const long long capacity = windowed ? o.rate : o.burst;
  if (o.cost > capacity)
    throw ConfigError(fmt::format("{}: {} is more than the {} ({}) of route '{}': no message could ever pass",
                                  setup.options.child("cost").where(), o.cost, windowed ? "rate" : "burst", capacity,
                                  setup.route_name.empty() ? std::string("(global)") : setup.route_name));
  o.whitelist = r.string_list("whitelist");
  o.whitelist_keys = r.string_list("whitelist_keys");
  const auto unavailable = r.string("on_unavailable", "local", {.one_of = {"local", "allow", "deny"}});
  o.on_unavailable = unavailable == "allow" ? OnUnavailable::allow
                     : unavailable == "deny" ? OnUnavailable::deny
                                             : OnUnavailable::local;
  r.finish();
  return o;
}

class RateLimit {
 public:
  explicit RateLimit(RateLimitOptions options)
      : options_(std::move(options)),
        period_us_(static_cast<long long>(options_.period_s * 1e6)),
        local_(std::make_unique<LocalGcra>(std::chrono::microseconds(period_us_ / options_.rate), options_.burst)) {}

  // Starts the decision now, when the chain prepares a run of middleware (middleware.hpp): it goes to
  // Redis with the others' (dedupe's claim) in one round trip. A key that cannot be built, or a
  // whitelisted one, is left to handle().
  void prepare(Context& ctx) {
    if (topic_whitelisted(ctx.topic())) return;
    const auto key = options_.key.render(ctx);
    if (!key.ok() || key_whitelisted(key.key)) return;
    auto& redis = redis::manager(ctx);
    ctx.set(early_decision, start_early(redis.io_context(), decide(redis, options_.key_scope.apply(ctx, key.key))));
  }

  awaitable<void> handle(Context& ctx, Next next) {
    if (auto* early = ctx.get(early_decision)) {
      auto decision = co_await (*early)->get();
      co_await act_on(ctx, next, std::move(decision));
      co_return;
    }
    if (topic_whitelisted(ctx.topic())) {
      co_await pass_whitelisted(ctx, next);
      co_return;
    }
    const auto key = options_.key.render(ctx);
    if (!key.ok()) {
      // A key that cannot be built is an error for this message, never a shared bucket.
      decision_counters().count("rate_limit", "key_error");
      spdlog::warn("rate_limit on '{}': {}; the message is rejected", ctx.topic(), key.error);
      throw InvalidPayload("rate_limit: " + key.error);
    }
    if (key_whitelisted(key.key)) {
      co_await pass_whitelisted(ctx, next);
      co_return;
    }
    auto decision = co_await decide(redis::manager(ctx), options_.key_scope.apply(ctx, key.key));
    co_await act_on(ctx, next, std::move(decision));
  }

 private:
  using EarlyDecision = std::shared_ptr<Eventual<RateLimitDecision>>;
  static constexpr ContextKey<EarlyDecision> early_decision{"rate_limit.early"};

  awaitable<void> act_on(Context& ctx, Next& next, RateLimitDecision decision) {
    decision_counters().count("rate_limit", decision.allowed ? "allowed" : "limited");
    ctx.set(rate_limit_decision, decision);
    if (decision.allowed) {
      co_await next();
      co_return;
    }
    reject(ctx, decision);
  }

  bool topic_whitelisted(const std::string& topic) const {
    for (const auto& filter : options_.whitelist)
      if (topic_matches_filter(filter, topic)) return true;
    return false;
  }

  // Glob semantics (*, ?, [set]) over the whole key, as in Redis's KEYS patterns; '/' is an ordinary
  // character here, unlike in topic filters.
  bool key_whitelisted(const std::string& key) const {
    for (const auto& pattern : options_.whitelist_keys)
      if (fnmatch(pattern.c_str(), key.c_str(), 0) == 0) return true;
    return false;
  }

  awaitable<void> pass_whitelisted(Context& ctx, Next next) const {
    decision_counters().count("rate_limit", "whitelisted");
    ctx.set(rate_limit_decision, RateLimitDecision{true, options_.rate, options_.rate, 0, 0, "whitelist"});
    co_await next();
  }

  awaitable<RateLimitDecision> decide(redis::RedisManager& redis, std::string key) {  // by value: it may run early
    redis::RateLimiter limiter(redis, limit());
    auto decision = co_await limiter.check(key, options_.cost);
    if (decision) co_return *decision;
    co_return unavailable_decision(key);
  }

  redis::RateLimit limit() const {
    return {options_.rate, std::chrono::microseconds(period_us_), options_.burst, options_.strategy};
  }

  RateLimitDecision unavailable_decision(const std::string& key) {
    decision_counters().count("rate_limit", "unavailable");
    const long long allowance = options_.burst;
    switch (options_.on_unavailable) {
      case OnUnavailable::allow: return {true, allowance, allowance, 0, 0, "allow"};
      case OnUnavailable::deny: return {false, allowance, 0, 1000, 1000, "deny"};
      case OnUnavailable::local: break;
    }
    return local_->decide(key, options_.cost, std::chrono::steady_clock::now());
  }

  void reject(Context& ctx, const RateLimitDecision& decision) const {
    options_.rejection.send(ctx, {{"error", "rate_limited"}, {"retry_after_ms", decision.retry_after_ms}});
  }

  RateLimitOptions options_;
  long long period_us_;
  std::unique_ptr<LocalGcra> local_;  // shared state of this middleware instance, not movable itself
};

}  // namespace

void register_rate_limit(MiddlewareRegistry& registry) {
  registry.add("rate_limit", [](const MiddlewareSetup& setup) { return make_middleware("rate_limit", RateLimit(read_rate_limit_options(setup))); });
}

}  // namespace routemq::middleware
