#include "plugins/redis/recipes/distributed_lock.hpp"

#include <random>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/random_token.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {
namespace {

// The fencing counter outlives the lock (it must keep increasing), but not forever.
constexpr long long fence_ttl_ms = 30LL * 24 * 3600 * 1000;

// KEYS: lock, fence. ARGV: token, ttl ms, fence ttl ms. -> the fencing number, or 0 when taken.
const Script& acquire_script() {
  static const Script script(R"lua(
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return fence
)lua");
  return script;
}

// KEYS: lock. ARGV: token, ttl ms. -> 1 when still ours and extended.
const Script& renew_script() {
  static const Script script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua");
  return script;
}

// KEYS: lock. ARGV: token, ttl ms. -> 1 when still ours, its TTL now at least ttl: the background
// renewal's, which never shortens a TTL an explicit renew() set longer.
const Script& keep_at_least_script() {
  static const Script script(R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left >= 0 and left < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
)lua");
  return script;
}

// KEYS: lock. ARGV: token. Compare-and-delete.
const Script& release_script() {
  static const Script script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return script;
}

std::chrono::milliseconds jittered(std::chrono::milliseconds base) {
  thread_local std::mt19937 random{std::random_device{}()};
  return std::chrono::milliseconds(std::uniform_int_distribution<long long>(base.count() / 2, base.count())(random));
}

// The token's compare-and-delete, and compare-and-extend, on a lock's Redis key; held_by_token says
// whether the lock was still held with that token (and was released or extended).
awaitable<Result> release_by_token(RedisManager& redis, std::string lock, std::string token) {
  std::vector<std::string> keys{std::move(lock)};
  std::vector<std::string> args{std::move(token)};
  co_return co_await redis.eval(release_script(), std::move(keys), std::move(args));
}

awaitable<Result> renew_by_token(RedisManager& redis, std::string lock, std::string token, std::chrono::milliseconds ttl) {
  std::vector<std::string> keys{std::move(lock)};
  std::vector<std::string> args{std::move(token), std::to_string(ttl.count())};
  co_return co_await redis.eval(renew_script(), std::move(keys), std::move(args));
}

awaitable<Result> keep_at_least(RedisManager& redis, std::string lock, std::string token, std::chrono::milliseconds ttl) {
  std::vector<std::string> keys{std::move(lock)};
  std::vector<std::string> args{std::move(token), std::to_string(ttl.count())};
  co_return co_await redis.eval(keep_at_least_script(), std::move(keys), std::move(args));
}

bool held_by_token(const Result& result) { return result.succeeded() && result.reply.integer == 1; }

awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

// Where a lock on `key` lives: one hash slot with its fencing counter.
static std::string lock_key(std::string_view key) { return "lock:{" + std::string(key) + "}"; }

DistributedLock::DistributedLock(const RedisManager& redis, std::string key, LockOptions options)
    : redis_(redis.share()), key_(lock_key(key)), token_(random_token()), options_(options) {}

DistributedLock::DistributedLock(DistributedLock&& other) noexcept
    : redis_(std::move(other.redis_)),
      key_(std::move(other.key_)),
      token_(std::move(other.token_)),
      options_(other.options_),
      outcome_(std::exchange(other.outcome_, Outcome::unavailable)),
      fence_(other.fence_),
      state_(std::move(other.state_)) {}

DistributedLock::~DistributedLock() {
  if (!acquired() || !finish()) return;
  // Released in the background: a destructor cannot wait, and the TTL bounds a lost release anyway.
  redis_->eval_detached(release_script(), {key_}, {token_});
}

awaitable<DistributedLock> DistributedLock::acquire(RedisManager& redis, std::string_view key, LockOptions options) {
  DistributedLock lock(redis, std::string(key), options);
  const auto give_up = std::chrono::steady_clock::now() + options.wait;
  auto delay = std::chrono::milliseconds(10);
  while (true) {
    std::vector<std::string> keys{lock.key_, lock.key_ + ":fence"};
    std::vector<std::string> args{lock.token_, std::to_string(options.ttl.count()), std::to_string(fence_ttl_ms)};
    auto result = co_await redis.eval(acquire_script(), std::move(keys), std::move(args));
    if (!result.succeeded()) {  // unavailable
      if (result.outcome_unknown()) lock.clear_phantom();
      co_return lock;
    }
    if (result.reply.integer > 0) {
      lock.outcome_ = Outcome::acquired;
      lock.fence_ = result.reply.integer;
      lock.state_ = std::make_shared<State>();
      if (options.renew) lock.start_renewal();
      co_return lock;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= give_up) {
      lock.outcome_ = Outcome::busy;
      co_return lock;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - now) + std::chrono::milliseconds(1);
    co_await sleep_for(std::min(jittered(delay), left));
    delay = std::min(delay * 2, std::chrono::milliseconds(200));
  }
}

// An acquire whose reply never came may still be applied, now or when a paused Redis wakes: a lock
// nobody knows it holds would block every instance until its TTL. Our token's compare-and-delete is
// retried until it removes ours or the TTL has run out, whichever comes first; another owner's lock
// is never touched.
void DistributedLock::clear_phantom() {
  // A weak handle: the loop ends with the manager, it does not keep its connections running.
  auto clearing = [](RedisManager::Weak weak, std::string key, std::string token,
                     std::chrono::milliseconds ttl) -> awaitable<void> {
    const auto expired = std::chrono::steady_clock::now() + ttl;
    auto delay = std::chrono::milliseconds(50);
    while (std::chrono::steady_clock::now() < expired) {
      auto redis = weak.lock();
      if (!redis) co_return;
      const auto result = co_await release_by_token(*redis, key, token);
      redis.reset();  // not held across the sleep
      if (held_by_token(result)) {
        spdlog::info("lock '{}': removed a lock taken by an acquire whose reply was lost", key);
        co_return;
      }
      co_await sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(1000));
    }
  };
  asio::co_spawn(redis_->io_context(), clearing(redis_->weak(), key_, token_, options_.ttl), asio::detached);
}

// The renewal loop's wait, on a strand of its own so that finish() can cancel it from any thread: a
// released lock's loop ends at once instead of sleeping out its period (which held an app's shutdown
// up by two seconds after any command that took a lock).
struct DistributedLock::Renewal {
  explicit Renewal(asio::io_context& io) : strand(asio::make_strand(io)), timer(strand) {}
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;
};

bool DistributedLock::finish() {
  if (!state_ || state_->finished.exchange(true)) return false;
  if (auto renewal = state_->renewal) asio::post(renewal->strand, [renewal] { renewal->timer.cancel(); });
  return true;
}

void DistributedLock::start_renewal() {
  // A weak handle: the lock object holds the manager while it lives; the loop only follows it.
  auto renewing = [](RedisManager::Weak weak, std::shared_ptr<State> state, std::shared_ptr<Renewal> renewal,
                     std::string key, std::string token) -> awaitable<void> {
    while (true) {
      // Checked on the strand before each wait: a cancel posted before the wait began found nothing to cancel.
      if (state->finished) co_return;
      const std::chrono::milliseconds ttl(state->kept_ttl_ms.load());  // a renew(ttl) changes it
      renewal->timer.expires_after(std::max(ttl / 3, std::chrono::milliseconds(1)));
      boost::system::error_code cancelled;
      co_await renewal->timer.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
      if (state->finished) co_return;
      auto redis = weak.lock();
      if (!redis) co_return;
      const auto result = co_await keep_at_least(*redis, key, token, ttl);
      redis.reset();
      if (state->finished) co_return;
      if (!held_by_token(result)) {
        state->lost = true;
        spdlog::warn("lock '{}': lost while held ({})", key, result.succeeded() ? "expired or taken" : result.error_text());
        co_return;
      }
    }
  };
  state_->kept_ttl_ms = options_.ttl.count();
  state_->renewal = std::make_shared<Renewal>(redis_->io_context());
  asio::co_spawn(state_->renewal->strand, renewing(redis_->weak(), state_, state_->renewal, key_, token_),
                 asio::detached);
}

awaitable<bool> DistributedLock::release() {
  if (!acquired() || !finish()) co_return false;
  co_return held_by_token(co_await release_by_token(*redis_, key_, token_));
}

awaitable<bool> DistributedLock::release(RedisManager& redis, std::string_view key, std::string_view token) {
  co_return held_by_token(co_await release_by_token(redis, lock_key(key), std::string(token)));
}

awaitable<bool> DistributedLock::renew(RedisManager& redis, std::string_view key, std::string_view token,
                                       std::chrono::milliseconds ttl) {
  co_return held_by_token(co_await renew_by_token(redis, lock_key(key), std::string(token), ttl));
}

awaitable<bool> DistributedLock::renew(std::optional<std::chrono::milliseconds> ttl) {
  if (!acquired() || !state_ || state_->finished) co_return false;
  const auto new_ttl = ttl.value_or(options_.ttl);
  const auto result = co_await renew_by_token(*redis_, key_, token_, new_ttl);
  const bool kept = held_by_token(result);
  if (kept) state_->kept_ttl_ms = new_ttl.count();  // the renewal keeps it from its next turn
  if (!kept && result.succeeded()) state_->lost = true;
  co_return kept;
}

std::string DistributedLock::detach() {
  if (!acquired() || !finish()) return {};
  return token_;
}

}  // namespace routemq::redis
