#pragma once
// Counters shared by every connection of one RedisManager; read by stats() and the metrics.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "plugins/redis/protocol/result.hpp"

namespace routemq::redis {

// Latency in power-of-two microsecond buckets: cheap to record from any thread, good enough for p50/p99.
class LatencyHistogram {
 public:
  static constexpr std::size_t bucket_count = 32;
  void record(std::chrono::nanoseconds latency);
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1), in microseconds; 0 when empty.
  double quantile_us(double q) const;
  std::uint64_t count() const;

 private:
  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
};

struct ClientStats {
  std::atomic<std::uint64_t> commands{0};      // requests completed with a reply (see all_commands())
  std::atomic<std::uint64_t> errors{0};        // error replies
  std::atomic<std::uint64_t> unavailable{0};   // refused at once (disabled, down, circuit open)
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> connection_failures{0};  // connections lost or refused
  std::atomic<std::uint64_t> reconnects{0};    // successful connects after the first
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> hits{0};          // reads that found a value (see all_hits())
  std::atomic<std::uint64_t> misses{0};
  std::atomic<std::uint64_t> redirects{0};       // cluster: MOVED and ASK followed
  std::atomic<std::uint64_t> slot_refreshes{0};  // cluster: slot maps learned
  std::atomic<std::uint64_t> replica_reads{0};     // redis.read_from: read-only commands sent to a replica
  std::atomic<std::uint64_t> replica_fallbacks{0};  // and those sent to the master, no replica being ready
  LatencyHistogram latency;

  // The per-command counters as the engine's strand counts them: it runs one handler at a time, so
  // a load and a store lose nothing, where a locked add stalled every command (with the reads, 2.5%
  // of a GET benchmark's time in perf). Only code running on that strand adds here (`on_strand`
  // below); anything else adds to the atomic counters above, and readers take the sums.
  struct OnStrand {
    std::atomic<std::uint64_t> commands{0};
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> misses{0};
  } counted_on_strand;
  std::uint64_t all_commands() const { return commands.load() + counted_on_strand.commands.load(); }
  std::uint64_t all_hits() const { return hits.load() + counted_on_strand.hits.load(); }
  std::uint64_t all_misses() const { return misses.load() + counted_on_strand.misses.load(); }

  // A command's `reads` counted from its result: a string is a hit, nil a miss (an MGET's each
  // element). No reply (Redis unavailable, a timeout) is no read at all, and an error reply
  // (WRONGTYPE) is an error, counted as one by the connection: neither drags the hit rate down as
  // if the value were missing. `on_strand`: the caller runs on the engine's strand.
  void count_reads(const Result& result, std::uint32_t reads, bool on_strand = false);
  void count_read(bool hit, bool on_strand = false) {
    if (on_strand) return add_alone(hit ? counted_on_strand.hits : counted_on_strand.misses);
    (hit ? hits : misses).fetch_add(1, std::memory_order_relaxed);
  }
  void count_command(bool on_strand) {
    if (on_strand) return add_alone(counted_on_strand.commands);
    commands.fetch_add(1, std::memory_order_relaxed);
  }

  // The last connection failure in words ("127.0.0.1:6380 cannot connect: TLS: unknown CA ..."), for
  // /ready and `routemq redis ping`; empty before any.
  void note_failure(std::string what);
  std::string last_failure() const;

 private:
  static void add_alone(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  mutable std::mutex failure_mutex_;
  std::string last_failure_;
};

}  // namespace routemq::redis
