#include "plugins/redis/recipes/rate_limiter.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/random_token.hpp"
#include "plugins/redis/recipes/rate_limit_scripts.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {
namespace {

// One hash slot per decision.
std::string limiter_key(std::string_view key) { return "rl:{" + std::string(key) + "}"; }

const Script& script_for(RateLimitStrategy strategy) {
  switch (strategy) {
    case RateLimitStrategy::fixed_window: return fixed_window_script();
    case RateLimitStrategy::sliding_window: return sliding_window_script();
    case RateLimitStrategy::token_bucket: return token_bucket_script();
    case RateLimitStrategy::gcra: break;
  }
  return gcra_script();
}

// The script's arguments; `dry`: decide without consuming (peek).
std::vector<std::string> arguments_for(const RateLimit& limit, long long cost, bool dry) {
  const auto period = std::to_string(limit.period.count());
  const auto rate = std::to_string(limit.rate);
  const auto burst = std::to_string(limit.burst);
  const std::string consume = dry ? "1" : "0";
  switch (limit.strategy) {
    case RateLimitStrategy::fixed_window: return {rate, period, std::to_string(cost), consume};
    case RateLimitStrategy::sliding_window: return {rate, period, std::to_string(cost), random_token(), consume};
    case RateLimitStrategy::token_bucket: return {burst, rate, period, std::to_string(cost), consume};
    case RateLimitStrategy::gcra: break;
  }
  return {std::to_string(limit.period.count() / limit.rate), burst, std::to_string(cost), consume};
}

long long ceil_ms(long long us) { return (us + 999) / 1000; }

}  // namespace

RateLimiter::RateLimiter(RedisManager& redis, RateLimit limit) : redis_(redis.share()), limit_(limit) {
  if (limit_.rate < 1 || limit_.period.count() < limit_.rate)
    throw std::invalid_argument("rate limit: rate must be >= 1 and the period at least one microsecond per message");
  if (limit_.burst <= 0) limit_.burst = limit_.rate;
}

awaitable<std::optional<RateLimitDecision>> RateLimiter::check(std::string_view key, long long cost) {
  return decide(std::string(key), cost, /*dry=*/false);
}

awaitable<std::optional<RateLimitDecision>> RateLimiter::peek(std::string_view key) {
  return decide(std::string(key), 1, /*dry=*/true);
}

awaitable<std::optional<RateLimitDecision>> RateLimiter::decide(std::string key, long long cost, bool dry) {
  std::vector<std::string> keys{limiter_key(key)};
  auto result = co_await redis_->eval(script_for(limit_.strategy), std::move(keys), arguments_for(limit_, cost, dry));
  if (!result.succeeded() || !result.reply.is_array() || result.reply.elements.size() != 4) {
    if (result.ok() && result.reply.is_error()) spdlog::warn("rate limiter: Redis refused: {}", result.reply.text);
    co_return std::nullopt;
  }
  const auto& v = result.reply.elements;
  co_return RateLimitDecision{v[0].integer == 1, capacity(), std::max(v[1].integer, 0LL),
                              ceil_ms(v[2].integer), ceil_ms(v[3].integer), "redis"};
}

long long RateLimiter::capacity() const {
  const bool windowed = limit_.strategy == RateLimitStrategy::fixed_window ||
                        limit_.strategy == RateLimitStrategy::sliding_window;
  return windowed ? limit_.rate : limit_.burst;
}

awaitable<bool> RateLimiter::reset(std::string_view key) {
  std::vector<std::string> keys{limiter_key(key)};
  std::vector<std::string> args{std::to_string(limit_.period.count())};
  auto result = co_await redis_->eval(rate_limit_reset_script(), std::move(keys), std::move(args));
  co_return result.succeeded();
}

}  // namespace routemq::redis
