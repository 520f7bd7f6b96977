#pragma once
// A latency histogram updated lock-free on the message path and read as a Prometheus histogram at
// scrape time. Bounds suit handlers: 100 us to 10 s.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include <prometheus/client_metric.h>

namespace routemq::metrics {

class LatencyBuckets {
 public:
  static constexpr std::array<double, 16> bounds_s{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};

  void record(std::chrono::nanoseconds latency);
  prometheus::ClientMetric::Histogram snapshot() const;

 private:
  std::array<std::atomic<std::uint64_t>, bounds_s.size() + 1> counts_{};  // the last one: above every bound
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace routemq::metrics
