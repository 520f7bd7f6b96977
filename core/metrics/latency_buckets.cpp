#include "core/metrics/latency_buckets.hpp"

#include <algorithm>
#include <limits>

namespace routemq::metrics {

void LatencyBuckets::record(std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds_s.begin(), bounds_s.end(), seconds) - bounds_s.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0)), std::memory_order_relaxed);
}

prometheus::ClientMetric::Histogram LatencyBuckets::snapshot() const {
  prometheus::ClientMetric::Histogram histogram;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_s.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    histogram.bucket.push_back({cumulative, bounds_s[i]});
  }
  cumulative += counts_.back().load(std::memory_order_relaxed);
  histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  histogram.sample_count = cumulative;
  histogram.sample_sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return histogram;
}

}  // namespace routemq::metrics
