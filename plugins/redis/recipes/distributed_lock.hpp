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
#include <atomic>
#include <chrono>
#include <memory>
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
  // Releases now (compare-and-delete); true when it was still ours.
  awaitable<bool> release();
  // Extends the TTL once; false (and lost) when it is no longer ours.
  awaitable<bool> renew();

 private:
  struct State {
    std::atomic<bool> lost{false};
    std::atomic<bool> finished{false};
  };
  DistributedLock(const RedisManager& redis, std::string key, LockOptions options);
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
