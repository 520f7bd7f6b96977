#include "plugins/redis/redis_metrics.hpp"

namespace routemq::redis {
namespace {

using prometheus::MetricType;

void add_single(metrics::Families& families, const char* name, const char* help, MetricType type, double value) {
  metrics::Family family(name, help, type);
  family.add({}, value);
  families.push_back(std::move(family).done());
}

}  // namespace

metrics::Families redis_metrics(const RedisStatsSnapshot& stats, const CacheStats& cache) {
  metrics::Families families;
  // One sample per state, 1 for the current one: dashboards can alert on state="down" directly.
  metrics::Family state("routemq_redis_state", "1 for the Redis client's current state", MetricType::Gauge);
  for (const char* name : {"disabled", "connecting", "connected", "down"})
    state.add({{"state", name}}, stats.state == name ? 1 : 0);
  families.push_back(std::move(state).done());

  const auto counter = [&](const char* name, const char* help, std::uint64_t value) {
    add_single(families, name, help, MetricType::Counter, static_cast<double>(value));
  };
  counter("routemq_redis_commands_total", "Commands completed with a reply", stats.commands);
  counter("routemq_redis_errors_total", "Error replies and failed commands", stats.errors);
  counter("routemq_redis_unavailable_total", "Calls answered with their default while Redis was unavailable",
          stats.unavailable);
  counter("routemq_redis_timeouts_total", "Commands that hit the socket timeout (outcome unknown)", stats.timeouts);
  counter("routemq_redis_connection_failures_total", "Connection attempts that failed", stats.connection_failures);
  counter("routemq_redis_reconnects_total", "Connections re-established after a loss", stats.reconnects);
  counter("routemq_redis_read_hits_total", "Reads that found a value", stats.hits);
  counter("routemq_redis_read_misses_total", "Reads that found nothing", stats.misses);
  add_single(families, "routemq_redis_connections_ready", "Connections ready to serve commands", MetricType::Gauge,
             static_cast<double>(stats.connections_ready));
  counter("routemq_redis_failovers_total", "Moves of the master followed (Sentinel)", stats.failovers);
  if (stats.fallback_served) {  // redis.fallback_cache is on
    counter("routemq_redis_fallback_served_total", "get() answered from the in-process fallback while Redis was unavailable",
            *stats.fallback_served);
    counter("routemq_redis_fallback_kept_total", "set() kept in the in-process fallback while Redis was unavailable (never sent)",
            *stats.fallback_kept_offline);
    add_single(families, "routemq_redis_fallback_entries", "Values in the in-process fallback cache", MetricType::Gauge,
               static_cast<double>(stats.fallback_entries));
  }
  if (!stats.cluster_masters.empty()) {  // a cluster: each master, 0 while none of our connections reach it
    counter("routemq_redis_redirects_total", "MOVED and ASK redirections followed (cluster)", stats.redirects);
    counter("routemq_redis_slot_refreshes_total", "Slot maps learned from CLUSTER SLOTS (cluster)", stats.slot_refreshes);
    metrics::Family masters("routemq_redis_cluster_master_connections_ready",
                            "Connections ready to each cluster master (0: its slots are unavailable)", MetricType::Gauge);
    for (const auto& master : stats.cluster_masters)
      masters.add({{"address", master.address}}, static_cast<double>(master.connections_ready));
    families.push_back(std::move(masters).done());
  }
  if (stats.replica_reads + stats.replica_fallbacks > 0 || !stats.replicas.empty()) {  // redis.read_from a replica
    counter("routemq_redis_replica_reads_total", "Read-only commands sent to a replica (read_from)", stats.replica_reads);
    counter("routemq_redis_replica_fallbacks_total",
            "Read-only commands sent to the master, no replica of it being ready (read_from)", stats.replica_fallbacks);
  }
  if (!stats.master.empty()) {  // Sentinel: where writes go now
    metrics::Family master("routemq_redis_master", "1 for the master's current address (Sentinel)", MetricType::Gauge);
    master.add({{"address", stats.master}}, 1);
    families.push_back(std::move(master).done());
  }

  metrics::Family remembered("routemq_redis_cache_total", "cache-aside lookups and loads (CacheAside::remember), and stored values that could not be decoded, by outcome", MetricType::Counter);
  for (const auto& [outcome, value] : {std::pair{"hit", &cache.hits}, {"stale_hit", &cache.stale_hits}, {"miss", &cache.misses},
                                       {"load", &cache.loads}, {"load_failure", &cache.load_failures},
                                       {"shared_load", &cache.shared_loads}, {"decode_failure", &cache.decode_failures}})
    remembered.add({{"outcome", outcome}}, static_cast<double>(value->load()));
  families.push_back(std::move(remembered).done());

  // Quantiles over the client's recent commands (a gauge: there is no running sum to make a summary of).
  metrics::Family latency("routemq_redis_command_latency_seconds", "Command round trip as seen by callers, by quantile",
                          MetricType::Gauge);
  latency.add({{"quantile", "0.5"}}, stats.p50_us / 1e6).add({{"quantile", "0.99"}}, stats.p99_us / 1e6);
  families.push_back(std::move(latency).done());
  return families;
}

}  // namespace routemq::redis
