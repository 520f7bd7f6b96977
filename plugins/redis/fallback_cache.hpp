#pragma once
// Seed 003's in-memory fallback, bounded: the string values this process last read from Redis or wrote
// to it (get, set, setex, getdel, del), kept in process to answer get() while Redis is unavailable.
//
// - Only while Redis is unavailable is a value served from here; while it answers, it is asked.
// - A plain set() during an outage is kept here (and returns true): it never reaches Redis. A set
//   with nx or xx is a decision between instances and is never taken here.
// - When Redis answers again after an outage, everything kept is dropped: values may have changed
//   there meanwhile (another instance's writes), and what was set here never reached it.
// - Bounded by entries, bytes and age: least recently used first, and no value older than max_age
//   (or its own TTL) is served. During an outage a value may be older than what Redis last held, by
//   the writes of other instances since this one last read it.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace routemq::redis {

struct FallbackLimits {
  std::size_t max_entries = 0;  // 0: off
  std::size_t max_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds max_age = std::chrono::minutes(5);
};

class FallbackCache {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FallbackCache(FallbackLimits limits) : limits_(limits) {}

  // `ttl`: the value's own in Redis, when known; never kept longer than max_age.
  void put(std::string key, std::string value, std::optional<std::chrono::milliseconds> ttl,
           Clock::time_point now = Clock::now());
  // The value kept, unless expired; it becomes the most recently used.
  std::optional<std::string> get(const std::string& key, Clock::time_point now = Clock::now());
  std::optional<std::string> take(const std::string& key, Clock::time_point now = Clock::now());
  bool erase(const std::string& key);

  // Redis refused a call as unavailable: the outage begins (or goes on).
  void redis_unavailable() { outage_.store(true, std::memory_order_relaxed); }
  // Redis answered: after an outage, everything kept is dropped, once. Cheap while no outage was seen.
  void redis_answered() {
    if (outage_.load(std::memory_order_relaxed) && outage_.exchange(false, std::memory_order_relaxed)) clear();
  }

  std::size_t size() const;
  std::size_t bytes() const;

  // For stats() and /metrics: values answered from here, and plain sets kept here, during outages.
  std::atomic<std::uint64_t> served{0}, kept_offline{0};

 private:
  struct Entry {
    std::string key;
    std::string value;
    Clock::time_point expires;
  };
  using Entries = std::list<Entry>;  // the most recently used first

  static std::size_t cost(const Entry& entry) { return entry.key.size() + entry.value.size() + overhead; }
  static constexpr std::size_t overhead = 96;  // the list node, the index's node and bucket, roughly
  void remove(Entries::iterator at);
  void evict_over_limits();
  void clear();

  const FallbackLimits limits_;
  std::atomic<bool> outage_{false};
  mutable std::mutex mutex_;
  Entries entries_;
  std::unordered_map<std::string_view, Entries::iterator> index_;  // views of the entries' keys
  std::size_t bytes_ = 0;
};

}  // namespace routemq::redis
