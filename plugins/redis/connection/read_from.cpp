#include "plugins/redis/connection/read_from.hpp"

#include <spdlog/spdlog.h>

namespace routemq::redis {

std::optional<ReadFrom> read_from_named(std::string_view name) {
  if (name == "master") return ReadFrom::master;
  if (name == "replica_preferred") return ReadFrom::replica_preferred;
  if (name == "replica") return ReadFrom::replica;
  return std::nullopt;
}

std::string_view name_of(ReadFrom read_from) {
  switch (read_from) {
    case ReadFrom::master: return "master";
    case ReadFrom::replica_preferred: return "replica_preferred";
    case ReadFrom::replica: return "replica";
  }
  return "master";
}

std::optional<std::size_t> ReplicaChooser::replica_read(std::size_t at) {
  stats_.replica_reads.fetch_add(1, std::memory_order_relaxed);
  if (falling_back_.exchange(false, std::memory_order_relaxed) && read_from_ == ReadFrom::replica)
    spdlog::info("redis: {}: a replica is ready again: reads go to replicas", where_);
  return at;
}

// With replica_preferred the master is the plan B the setting names; with replica it is a departure
// from what was asked: the first of a stretch is logged (a replica down shows once, not per read).
std::optional<std::size_t> ReplicaChooser::fallback(std::size_t replicas) {
  stats_.replica_fallbacks.fetch_add(1, std::memory_order_relaxed);
  if (!falling_back_.exchange(true, std::memory_order_relaxed) && read_from_ == ReadFrom::replica)
    spdlog::warn("redis: {}: read_from is replica but {}: reads fall back to the master", where_,
                 replicas == 0 ? "no replica is known" : "no replica is ready");
  return std::nullopt;
}

}  // namespace routemq::redis
