#pragma once
// Counters the app keeps; the metrics endpoint and logs read them. Lock-free, updated per message.
#include <atomic>
#include <cstdint>

#include "core/metrics/latency_buckets.hpp"

namespace routemq {

struct RouteStats {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> handled{0};    // the chain completed without an exception
  std::atomic<std::uint64_t> replayed{0};   // handled by answering again what an earlier copy was answered
  std::atomic<std::uint64_t> rejected{0};   // InvalidPayload: the payload was unacceptable
  std::atomic<std::uint64_t> failed{0};     // any other exception from middleware or handler
  metrics::LatencyBuckets latency;          // middleware + handler, per message
};

struct AppStats {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> unmatched{0};            // no route for the topic (e.g. a retained stray)
  std::atomic<std::uint64_t> duplicate_copies{0};     // extra copies for overlapping subscriptions, skipped
};

}  // namespace routemq
