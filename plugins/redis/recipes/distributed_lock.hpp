#pragma once
// A lock on Redis shared by every app instance: a random token set with NX and a TTL, a fencing number
// strictly increasing per key, renewal about every ttl/3 while held, and a compare-and-delete release
// (a holder can never delete another owner's lock). An acquire that timed out on the wire is not
// a lock: whatever it may have set is removed in the background (compare-and-delete, until the TTL).
//
//   auto guard = co_await redis::DistributedLock::acquire(redis::manager(ctx), "device:42", {.ttl = 10s, .wait = 5s});
//   if (guard.acquired()) {
//     ... if (guard.lost()) return;   // the lock expired or was taken: stop before side effects
//     write_somewhere(guard.fence());
//   }                                  // released when the guard goes away
//
// Seed 001's DistributedLock(key, timeout) holds for `timeout` and waits up to `timeout` for it:
// here {.ttl = timeout, .wait = timeout}. Our wait is 0 unless given (one try: a handler should not
// queue behind a busy device by default). Seed 002's acquire_lock / renew_lock / release_lock by id:
// detach() the guard (its token is the id), then the static renew() and release() by key and token.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/asio.hpp"

namespace routemq::redis {

class RedisManager;

struct LockOptions {
  std::chrono::milliseconds ttl{10000};
  std::chrono::milliseconds wait{0};  // how long to retry (jittered) while someone else holds it
  bool renew = true;                  // extend every ttl/3 until released
};

class DistributedLock {
 public:
  enum class Outcome { acquired, busy, unavailable };

  static awaitable<DistributedLock> acquire(RedisManager& redis, std::string_view key, LockOptions options = {});

  DistributedLock(DistributedLock&&) noexcept;
  DistributedLock& operator=(DistributedLock&&) = delete;
  ~DistributedLock();  // releases (in the background) if still held

  Outcome outcome() const { return outcome_; }
  bool acquired() const { return outcome_ == Outcome::acquired; }
  long long fence() const { return fence_; }
  bool lost() const { return state_ && state_->lost.load(); }
  // The owner's token: hand it (with the key) to another request or process that is to release or
  // renew this lock (seed 002), through the static release()/renew() below.
  const std::string& token() const { return token_; }
  // Releases now (compare-and-delete); true when it was still ours.
  awaitable<bool> release();
  // Sets the TTL to `ttl` (default the lock's own) now, and the background renewal keeps that TTL
  // from then on; false (and lost) when it is no longer ours.
  awaitable<bool> renew(std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  // Lets go of the lock without releasing it: no more renewal, nothing done when the guard goes. The
  // lock stays held until released by key and token (the token returned) or until its TTL runs out.
  // Empty when this guard holds nothing (not acquired, released, or detached already).
  std::string detach();

  // The same by key and token, from anywhere: true when the lock was still held with that token. A
  // renew() sets the TTL exactly; a guard's background renewal, which only keeps its own TTL at
  // least, does not shorten it.
  static awaitable<bool> release(RedisManager& redis, std::string_view key, std::string_view token);
  static awaitable<bool> renew(RedisManager& redis, std::string_view key, std::string_view token,
                               std::chrono::milliseconds ttl);

 private:
  struct Renewal;
  struct State {
    std::atomic<bool> lost{false};
    std::atomic<bool> finished{false};
    std::atomic<long long> kept_ttl_ms{0};  // what the renewal keeps: the lock's TTL, or the last renew()'s
    std::shared_ptr<Renewal> renewal;  // set by start_renewal, before the lock is handed out
  };
  DistributedLock(const RedisManager& redis, std::string key, LockOptions options);
  bool finish();  // false when it already was (released, or never held)
  void start_renewal();
  void clear_phantom();

  std::shared_ptr<RedisManager> redis_;  // a handle: the renewal and release keep the manager alive
  std::string key_;  // the Redis key (prefix added by the manager)
  std::string token_;
  LockOptions options_;
  Outcome outcome_ = Outcome::unavailable;
  long long fence_ = 0;
  std::shared_ptr<State> state_;
};

}  // namespace routemq::redis
