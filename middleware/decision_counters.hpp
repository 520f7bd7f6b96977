#pragma once
// Every middleware decision, counted by middleware and outcome ("rate_limit", "limited"), for the
// metrics endpoint and for tests. Process-wide and lock-free where messages pass: a pair's counter is
// found by a scan of the few pairs seen so far and bumped with an atomic add. Only the first decision
// of a new pair takes a lock, to add its slot.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "core/metrics/family.hpp"

namespace routemq::middleware {

class DecisionCounters {
 public:
  // Pairs beyond this many are counted together under ("overflow", "overflow"): the middleware have
  // about twenty, and a bounded table is what keeps the scan lock-free.
  static constexpr std::size_t capacity = 64;

  void count(std::string_view middleware, std::string_view outcome);
  std::uint64_t get(std::string_view middleware, std::string_view outcome) const;
  std::map<std::pair<std::string, std::string>, std::uint64_t> snapshot() const;

 private:
  struct Slot {
    std::string middleware;  // written once, before `used_` publishes the slot
    std::string outcome;
    std::atomic<std::uint64_t> count{0};
  };
  static constexpr std::size_t none = capacity + 1;
  std::size_t index_of(std::string_view middleware, std::string_view outcome) const;
  std::size_t add(std::string_view middleware, std::string_view outcome);

  std::array<Slot, capacity + 1> slots_;  // slots_[capacity] counts the overflow
  std::atomic<std::size_t> used_{0};
  std::mutex adding_;
};

DecisionCounters& decision_counters();

// routemq_middleware_decisions_total{middleware, outcome}, for the app's /metrics.
metrics::Families decision_metrics();

}  // namespace routemq::middleware
