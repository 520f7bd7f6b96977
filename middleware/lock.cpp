#include "middleware/lock.hpp"

#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"
#include "middleware/decision_counters.hpp"
#include "middleware/key_template.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::middleware {
namespace {

// The fencing counter outlives the lock (it must keep increasing), but not forever.
constexpr long long fence_ttl_ms = 30LL * 24 * 3600 * 1000;

// KEYS: lock, fence. ARGV: token, ttl ms, fence ttl ms. -> the fencing number, or 0 when taken.
const redis::Script& acquire_script() {
  static const redis::Script script(R"lua(
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return fence
)lua");
  return script;
}

// KEYS: lock. ARGV: token, ttl ms. -> 1 when still ours and extended.
const redis::Script& renew_script() {
  static const redis::Script script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua");
  return script;
}

// KEYS: lock. ARGV: token. Compare-and-delete.
const redis::Script& release_script() {
  static const redis::Script script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return script;
}

struct LockOptions {
  KeyTemplate key = KeyTemplate::parse("{topic}");
  long long ttl_ms = 10000;
  long long wait_ms = 5000;
  std::optional<KeyTemplate> contention_topic;
  bool proceed_when_unavailable = true;
};

KeyTemplate template_at(const MiddlewareSetup& setup, const char* key, const std::string& text) {
  try {
    return KeyTemplate::parse(text);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(fmt::format("{}: {}", setup.options.child(key).where(), e.what()));
  }
}

LockOptions read_options(const MiddlewareSetup& setup) {
  SectionReader r(setup.options, setup.environment);
  LockOptions o;
  o.key = template_at(setup, "key", r.string("key", "{topic}", {.non_empty = true}));
  o.ttl_ms = static_cast<long long>(r.number("ttl", 10, {.min = 0.01, .max = 86400}) * 1000);
  o.wait_ms = static_cast<long long>(r.number("wait", 5, {.min = 0, .max = 3600}) * 1000);
  if (auto topic = r.optional_string("contention_topic", {.non_empty = true}))
    o.contention_topic = template_at(setup, "contention_topic", *topic);
  o.proceed_when_unavailable = r.string("on_unavailable", "proceed", {.one_of = {"proceed", "skip"}}) == "proceed";
  r.finish();
  return o;
}

std::string random_token() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", random(), random());
}

std::chrono::milliseconds jittered(std::chrono::milliseconds base) {
  thread_local std::mt19937 random{std::random_device{}()};
  return std::chrono::milliseconds(std::uniform_int_distribution<long long>(base.count() / 2, base.count())(random));
}

awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

// Extends the lock every ttl/3 until the handler is done; marks it lost when it cannot.
struct Renewal {
  std::shared_ptr<LockState> state;
  std::shared_ptr<std::atomic<bool>> finished = std::make_shared<std::atomic<bool>>(false);
};

awaitable<void> keep_renewing(redis::RedisManager& redis, Renewal renewal, std::vector<std::string> keys,
                              std::string token, long long ttl_ms) {
  const auto period = std::chrono::milliseconds(std::max<long long>(ttl_ms / 3, 1));
  while (true) {
    co_await sleep_for(period);
    if (renewal.finished->load()) co_return;
    std::vector<std::string> args{token, std::to_string(ttl_ms)};
    auto result = co_await redis.eval(renew_script(), keys, std::move(args));
    if (renewal.finished->load()) co_return;
    if (!result.succeeded() || result.reply.integer != 1) {
      renewal.state->lost = true;
      decision_counters().count("lock", "lost");
      spdlog::warn("lock '{}': lost while the handler runs ({})", renewal.state->key,
                   result.succeeded() ? "expired or taken" : result.error_text());
      co_return;
    }
  }
}

class Lock {
 public:
  explicit Lock(LockOptions options) : options_(std::move(options)) {}

  awaitable<void> handle(Context& ctx, Next next) {
    const auto key = options_.key.render(ctx);
    if (!key.ok()) {
      decision_counters().count("lock", "key_error");
      throw InvalidPayload("lock: " + key.error);
    }
    auto& redis = ctx.redis();
    auto state = std::make_shared<LockState>();
    state->key = key.key;
    ctx.set("lock", state);
    std::vector<std::string> keys{"lock:{" + key.key + "}", "lock:{" + key.key + "}:fence"};
    const std::string token = random_token();
    const auto acquired = co_await acquire(redis, keys, token);
    if (!acquired) {  // Redis unavailable
      decision_counters().count("lock", "unavailable");
      if (!options_.proceed_when_unavailable) co_return;
      spdlog::warn("lock '{}': Redis unavailable, handling unlocked", key.key);
      co_await next();
      co_return;
    }
    if (*acquired == 0) {
      decision_counters().count("lock", "locked");
      if (options_.contention_topic)
        if (auto topic = options_.contention_topic->render(ctx); topic.ok())
          ctx.publish(topic.key, nlohmann::json{{"error", "locked"}, {"key", key.key}}, {.qos = 1});
      co_return;
    }
    decision_counters().count("lock", "acquired");
    state->locked = true;
    state->fence = *acquired;
    Renewal renewal{state};
    std::vector<std::string> lock_key{keys[0]};
    auto executor = co_await asio::this_coro::executor;
    asio::co_spawn(executor, keep_renewing(redis, renewal, lock_key, token, options_.ttl_ms), asio::detached);
    try {
      co_await next();
    } catch (...) {
      renewal.finished->store(true);
      release(redis, lock_key, token);
      throw;
    }
    renewal.finished->store(true);
    std::vector<std::string> release_args{token};
    co_await redis.eval(release_script(), lock_key, std::move(release_args));
  }

 private:
  // The fencing number, 0 when still taken at the deadline, nullopt when Redis is unavailable.
  awaitable<std::optional<long long>> acquire(redis::RedisManager& redis, const std::vector<std::string>& keys,
                                              const std::string& token) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.wait_ms);
    auto delay = std::chrono::milliseconds(10);
    while (true) {
      std::vector<std::string> args{token, std::to_string(options_.ttl_ms), std::to_string(fence_ttl_ms)};
      auto result = co_await redis.eval(acquire_script(), keys, std::move(args));
      if (!result.succeeded()) co_return std::nullopt;
      if (result.reply.integer > 0 || std::chrono::steady_clock::now() >= give_up) co_return result.reply.integer;
      co_await sleep_for(std::min(jittered(delay), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                       give_up - std::chrono::steady_clock::now()) +
                                                       std::chrono::milliseconds(1)));
      delay = std::min(delay * 2, std::chrono::milliseconds(200));
    }
  }

  static void release(redis::RedisManager& redis, std::vector<std::string> keys, const std::string& token) {
    std::vector<std::string> args{token};
    asio::co_spawn(redis.io_context(), redis.eval(release_script(), std::move(keys), std::move(args)),
                   [](std::exception_ptr, redis::Result) {});
  }

  LockOptions options_;
};

}  // namespace

void register_lock(MiddlewareRegistry& registry) {
  registry.add("lock", [](const MiddlewareSetup& setup) { return make_middleware("lock", Lock(read_options(setup))); });
}

}  // namespace routemq::middleware
