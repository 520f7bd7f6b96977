#pragma once
// Counters of cache-aside lookups (recipes/cache_aside.hpp) and of stored values that could not be
// decoded or decrypted: per manager or view (RedisManager::cache_stats()) and for all of them
// together (cache_stats_all_scopes(), /metrics).
#include <atomic>
#include <cstdint>

namespace routemq::redis {

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

}  // namespace routemq::redis
