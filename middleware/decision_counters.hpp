#pragma once
// Every middleware decision, counted by middleware and outcome ("rate_limit", "limited"), for the
// metrics endpoint and for tests. Process-wide, thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "core/metrics/family.hpp"

namespace routemq::middleware {

class DecisionCounters {
 public:
  void count(const std::string& middleware, const std::string& outcome);
  std::uint64_t get(const std::string& middleware, const std::string& outcome) const;
  std::map<std::pair<std::string, std::string>, std::uint64_t> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> counts_;
};

DecisionCounters& decision_counters();

// routemq_middleware_decisions_total{middleware, outcome}, for the app's /metrics.
metrics::Families decision_metrics();

}  // namespace routemq::middleware
