#include "middleware/decision_counters.hpp"

namespace routemq::middleware {

void DecisionCounters::count(const std::string& middleware, const std::string& outcome) {
  std::lock_guard lock(mutex_);
  ++counts_[{middleware, outcome}];
}

std::uint64_t DecisionCounters::get(const std::string& middleware, const std::string& outcome) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find({middleware, outcome});
  return it == counts_.end() ? 0 : it->second;
}

std::map<std::pair<std::string, std::string>, std::uint64_t> DecisionCounters::snapshot() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

DecisionCounters& decision_counters() {
  static DecisionCounters counters;
  return counters;
}

metrics::Families decision_metrics() {
  metrics::Family decisions("routemq_middleware_decisions_total", "Middleware decisions by outcome",
                            prometheus::MetricType::Counter);
  for (const auto& [key, count] : decision_counters().snapshot())
    decisions.add({{"middleware", key.first}, {"outcome", key.second}}, static_cast<double>(count));
  return {std::move(decisions).done()};
}

}  // namespace routemq::middleware
