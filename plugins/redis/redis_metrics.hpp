#pragma once
// The RedisManager's figures as Prometheus families (routemq_redis_*), for the app's /metrics.
#include "core/metrics/family.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

metrics::Families redis_metrics(const RedisStatsSnapshot& stats, const CacheStats& cache);

}  // namespace routemq::redis
