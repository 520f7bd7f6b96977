#pragma once
// Rate limiting on Redis for handlers and middleware: one atomic script per decision, time from Redis.
//
//   redis::RateLimiter limiter(redis::manager(ctx), {.rate = 10, .period = 60s});   // GCRA, burst = rate
//   auto decision = co_await limiter.check("device:" + id);              // nullopt: Redis unavailable
//   if (decision && !decision->allowed) ... decision->retry_after_ms ...
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/asio.hpp"

namespace routemq::redis {

class RedisManager;

enum class RateLimitStrategy { gcra, fixed_window, sliding_window, token_bucket };

struct RateLimit {
  long long rate = 1;                                  // messages ...
  std::chrono::microseconds period{std::chrono::seconds(1)};  // ... per period
  long long burst = 0;                                 // GCRA / token bucket capacity; 0: rate
  RateLimitStrategy strategy = RateLimitStrategy::gcra;
};

struct RateLimitDecision {
  bool allowed = true;
  long long limit = 0;
  long long remaining = 0;
  long long retry_after_ms = 0;
  long long reset_after_ms = 0;
  std::string source;  // "redis", or what decided instead ("local", "allow", "deny", "whitelist")
};

class RateLimiter {
 public:
  RateLimiter(RedisManager& redis, RateLimit limit);

  // Consumes `cost` when allowed. nullopt when Redis is unavailable (the caller picks the fallback).
  awaitable<std::optional<RateLimitDecision>> check(std::string_view key, long long cost = 1);
  // What check(key) would say for one unit, without consuming it: whether the next message passes.
  awaitable<std::optional<RateLimitDecision>> peek(std::string_view key);
  // Forgets the key's history: it starts with a full allowance.
  awaitable<bool> reset(std::string_view key);

  const RateLimit& limit() const { return limit_; }
  // The most one check() can ever be allowed: the burst (GCRA, token bucket) or the rate (windows).
  // A larger cost is always denied.
  long long capacity() const;

 private:
  awaitable<std::optional<RateLimitDecision>> decide(std::string key, long long cost, bool dry);
  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
  RateLimit limit_;
};

}  // namespace routemq::redis
