#include "plugins/redis/connection/client_stats.hpp"

#include <bit>

namespace routemq::redis {

void LatencyHistogram::record(std::chrono::nanoseconds latency) {
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count() / 1000, 0));
  const std::size_t bucket = std::min<std::size_t>(static_cast<std::size_t>(std::bit_width(us)), bucket_count - 1);
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t LatencyHistogram::count() const {
  std::uint64_t total = 0;
  for (const auto& bucket : buckets_) total += bucket.load(std::memory_order_relaxed);
  return total;
}

void ClientStats::count_reads(const Result& result, std::uint32_t reads, bool on_strand) {
  if (reads == 0 || !result.succeeded()) return;
  if (reads == 1) return count_read(result.reply.type == Reply::Type::string, on_strand);
  if (!result.reply.is_array()) return;
  for (const auto& element : result.reply.elements) count_read(element.type == Reply::Type::string, on_strand);
}

double LatencyHistogram::quantile_us(double q) const {
  const auto total = count();
  if (total == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.5);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= std::max<std::uint64_t>(rank, 1)) return i == 0 ? 1.0 : static_cast<double>(std::uint64_t{1} << i);
  }
  return static_cast<double>(std::uint64_t{1} << (bucket_count - 1));
}

void ClientStats::note_failure(std::string what) {
  std::lock_guard lock(failure_mutex_);
  last_failure_ = std::move(what);
}

std::string ClientStats::last_failure() const {
  std::lock_guard lock(failure_mutex_);
  return last_failure_;
}

}  // namespace routemq::redis
