#pragma once
// redis.read_from: where read-only commands go on a Redis Cluster or behind Sentinel (seed 000's
// cluster "replica_factor" made useful: replicas that also serve reads).
//
//   master             every command to the master (the default)
//   replica_preferred  read-only commands to a ready replica of the master, else to the master
//   replica            read-only commands to a ready replica; with none ready they still answer, from
//                      the master, and each such fallback is counted and its start logged
//
// A replica's copy lags its master by the replication delay: a read there may not see a write made
// an instant before. Writes, transactions, scripts, raw commands, pipelines with a write, leases and
// pub/sub always go to the master.
#include <atomic>
#include <cstddef>
#include <optional>
#include <string_view>

#include "plugins/redis/connection/client_stats.hpp"

namespace routemq::redis {

enum class ReadFrom { master, replica_preferred, replica };

// "master", "replica_preferred", "replica"; nullopt for anything else.
std::optional<ReadFrom> read_from_named(std::string_view name);
std::string_view name_of(ReadFrom read_from);

// The choice for one read-only command, among the ready state of its master's replicas: which one
// (round-robin), or none (the master), counted in `stats` either way. Thread-safe.
class ReplicaChooser {
 public:
  ReplicaChooser(ReadFrom read_from, ClientStats& stats, std::string_view where)
      : read_from_(read_from), stats_(stats), where_(where) {}

  bool reads_from_replicas() const { return read_from_ != ReadFrom::master; }
  // Of the master's `count` replicas, a ready one (`is_ready(i)`), in turn; nullopt when none is:
  // the master serves it, counted as a fallback.
  template <class Ready>
  std::optional<std::size_t> choose_among(std::size_t count, Ready&& is_ready) {
    const auto start = turn_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < count; ++i)
      if (const auto at = (start + i) % count; is_ready(at)) return replica_read(at);
    return fallback(count);
  }

 private:
  std::optional<std::size_t> replica_read(std::size_t at);
  std::optional<std::size_t> fallback(std::size_t replicas);

  ReadFrom read_from_;
  ClientStats& stats_;
  std::string_view where_;  // "cluster" or "Sentinel", for the log
  std::atomic<std::size_t> turn_{0};
  std::atomic<bool> falling_back_{false};  // logged once per stretch of fallbacks, not per command
};

}  // namespace routemq::redis
