#include "middleware/dedupe.hpp"

#include <list>
#include <mutex>
#include <unordered_set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"
#include "middleware/decision_counters.hpp"
#include "middleware/key_template.hpp"
#include "plugins/redis/random_token.hpp"
#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::middleware {
namespace {

// KEYS[1] marker. ARGV: lease ms, claim token. -> "first" | "duplicate" | "in_flight"
const redis::Script& claim_script() {
  static const redis::Script script(R"lua(
local marker = redis.call('GET', KEYS[1])
if not marker then
  redis.call('SET', KEYS[1], 'claim:' .. ARGV[2], 'PX', ARGV[1])
  return 'first'
end
if marker == 'done' then return 'duplicate' end
return 'in_flight'
)lua");
  return script;
}

// KEYS[1] marker. ARGV: claim token, window ms. Marks done unless another claim took over.
const redis::Script& done_script() {
  static const redis::Script script(R"lua(
local marker = redis.call('GET', KEYS[1])
if (not marker) or marker == 'claim:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
  return 1
end
return 0
)lua");
  return script;
}

// KEYS[1] marker. ARGV: claim token. Compare-and-delete: only our own claim.
const redis::Script& release_script() {
  static const redis::Script script(R"lua(
if redis.call('GET', KEYS[1]) == 'claim:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return script;
}

// Recently seen ids while Redis is down: bounded, oldest forgotten first.
class RecentIds {
 public:
  explicit RecentIds(std::size_t capacity) : capacity_(capacity) {}
  // True when the id was new (and is now remembered).
  bool insert(const std::string& id) {
    std::lock_guard lock(mutex_);
    if (!seen_.insert(id).second) return false;
    order_.push_back(id);
    if (order_.size() > capacity_) {
      seen_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }
  void forget(const std::string& id) {
    std::lock_guard lock(mutex_);
    if (seen_.erase(id)) order_.remove(id);
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_set<std::string> seen_;
  std::list<std::string> order_;
};

struct DedupeOptions {
  KeyTemplate id = KeyTemplate::parse("{hash}");
  long long window_ms = 3600 * 1000;
  long long lease_ms = 30 * 1000;
  bool retry_in_flight = false;
  long long retry_wait_ms = 5000;
  bool allow_when_unavailable = true;
  std::size_t memory = 10000;
};

DedupeOptions read_dedupe_options(const MiddlewareSetup& setup) {
  SectionReader r(setup.options, setup.environment);
  DedupeOptions o;
  o.id = KeyTemplate::from_option(setup.options, "id", r.string("id", "{hash}", {.non_empty = true}));
  o.window_ms = static_cast<long long>(r.number("window", 3600, {.min = 0.001, .max = 86400.0 * 365}) * 1000);
  o.lease_ms = static_cast<long long>(r.number("lease", 30, {.min = 0.001, .max = 86400}) * 1000);
  o.retry_in_flight = r.string("in_flight", "skip", {.one_of = {"skip", "retry"}}) == "retry";
  o.retry_wait_ms = static_cast<long long>(r.number("retry_wait", 5, {.min = 0, .max = 3600}) * 1000);
  o.allow_when_unavailable = r.string("on_unavailable", "allow", {.one_of = {"allow", "deny"}}) == "allow";
  o.memory = static_cast<std::size_t>(r.integer("memory", 10000, {.min = 1, .max = 10'000'000}));
  r.finish();
  return o;
}

class Dedupe {
 public:
  explicit Dedupe(DedupeOptions options)
      : options_(std::move(options)), recent_(std::make_shared<RecentIds>(options_.memory)) {}

  awaitable<void> handle(Context& ctx, Next next) {
    const auto id = options_.id.render(ctx);
    if (!id.ok()) {
      decision_counters().count("dedupe", "key_error");
      throw InvalidPayload("dedupe: " + id.error);
    }
    auto& redis = redis::manager(ctx);
    std::vector<std::string> keys{"dd:{" + id.key + "}"};
    const std::string token = redis::random_token();
    std::string outcome = co_await claim(redis, keys, token);
    ctx.set(dedupe_decision, DedupeDecision{id.key, outcome});
    decision_counters().count("dedupe", outcome);
    if (outcome == "unavailable") {
      co_await handle_without_redis(next, id.key);
      co_return;
    }
    if (outcome != "first") co_return;  // a duplicate, or still being handled elsewhere: skipped
    try {
      co_await next();
    } catch (...) {
      release(redis, keys, token);  // let a redelivery be handled
      throw;
    }
    std::vector<std::string> done_args{token, std::to_string(options_.window_ms)};
    auto marked = co_await redis.eval(done_script(), keys, std::move(done_args));
    if (!marked.succeeded()) spdlog::warn("dedupe: could not mark '{}' done: {}", id.key, marked.error_text());
  }

 private:
  // "first", "duplicate", "in_flight" or "unavailable"; with in_flight: retry, waits for the outcome.
  awaitable<std::string> claim(redis::RedisManager& redis, const std::vector<std::string>& keys,
                               const std::string& token) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.retry_wait_ms);
    auto delay = std::chrono::milliseconds(10);
    while (true) {
      std::vector<std::string> args{std::to_string(options_.lease_ms), token};
      auto result = co_await redis.eval(claim_script(), keys, std::move(args));
      if (!result.succeeded()) co_return std::string("unavailable");
      if (result.reply.text != "in_flight" || !options_.retry_in_flight ||
          std::chrono::steady_clock::now() + delay > give_up)
        co_return result.reply.text;
      asio::steady_timer timer(co_await asio::this_coro::executor, delay);
      co_await timer.async_wait(asio::use_awaitable);
      delay = std::min(delay * 2, std::chrono::milliseconds(500));
    }
  }

  awaitable<void> handle_without_redis(Next& next, const std::string& id) {
    if (!options_.allow_when_unavailable) co_return;  // deny: skipped
    if (!recent_->insert(id)) co_return;              // seen by this process during the outage
    try {
      co_await next();
    } catch (...) {
      recent_->forget(id);
      throw;
    }
  }

  static void release(redis::RedisManager& redis, std::vector<std::string> keys, const std::string& token) {
    // Fire and forget on the manager's thread: the handler's error must propagate now.
    std::vector<std::string> args{token};
    asio::co_spawn(redis.io_context(), redis.eval(release_script(), std::move(keys), std::move(args)),
                   [](std::exception_ptr, redis::Result) {});
  }

  DedupeOptions options_;
  std::shared_ptr<RecentIds> recent_;
};

}  // namespace

void register_dedupe(MiddlewareRegistry& registry) {
  registry.add("dedupe", [](const MiddlewareSetup& setup) { return make_middleware("dedupe", Dedupe(read_dedupe_options(setup))); });
}

}  // namespace routemq::middleware
