#pragma once
// Cache-aside in one call: RedisManager::remember(key, options, loader) returns the cached value, or
// runs `loader`, stores what it returns for `ttl` (through the manager's or view's codec), and returns it.
//
//   auto user = co_await redis.remember("user:42", {.ttl = 60s}, [id]() -> awaitable<nlohmann::json> {
//     co_return co_await load_user_from_db(id);
//   });
//   if (user.value) use(*user.value); else log(user.error);   // error: the loader failed
//
// - One load per key at a time in this process: concurrent misses wait for the load already running
//   (their `source` is shared_load) instead of stampeding the store behind the cache.
// - stale_while_revalidate > 0: a value older than `ttl` but younger than ttl + stale_while_revalidate
//   is returned at once (source stale) and reloaded in the background. Then the loader outlives the
//   call: capture by value, never references to the caller's locals.
// - Redis disabled or down: the loader runs and its value is returned (not stored). A stored value
//   the codec cannot decode is reloaded and overwritten. A loader that throws is reported in `error`, never
//   thrown into the caller; the next call loads again.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/asio.hpp"

namespace routemq::redis {

struct RememberOptions {
  std::chrono::seconds ttl{60};
  std::chrono::seconds stale_while_revalidate{0};
};

struct Remembered {
  enum class Source { cache, stale, loaded, shared_load, failed };
  std::optional<nlohmann::json> value;
  Source source = Source::failed;
  std::string error;  // why the loader failed (source failed), or that the stored value could not be decoded
};

using Loader = std::function<awaitable<nlohmann::json>()>;

// Counters of remember() and of stored values that could not be decoded or decrypted: per manager or
// view (cache_stats()) and for all of them together (cache_stats_all_scopes(), /metrics).
struct CacheStats {
  std::atomic<std::uint64_t> hits{0}, stale_hits{0}, misses{0}, loads{0}, load_failures{0}, shared_loads{0};
  std::atomic<std::uint64_t> decode_failures{0};

  // Fresh and stale hits over all lookups; 0 before the first.
  double hit_rate() const {
    const double served = static_cast<double>(hits.load() + stale_hits.load());
    const double lookups = served + static_cast<double>(misses.load());
    return lookups > 0 ? served / lookups : 0;
  }
};

// One load in progress: the caller running it, and its passengers, the callers waiting for its result
// on their own executors. Internal to remember(); here so RedisManager can own the table of them.
class Flight {
 public:
  // Suspends until complete() (at once if it already ran), resuming on the caller's executor.
  awaitable<Remembered> wait();
  void complete(const Remembered& result);

 private:
  using Passenger = std::function<void(Remembered)>;  // resumes one waiting caller
  std::mutex mutex_;
  std::optional<Remembered> result_;
  std::vector<Passenger> passengers_;
};

}  // namespace routemq::redis
