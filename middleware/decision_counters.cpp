#include "middleware/decision_counters.hpp"

namespace routemq::middleware {

// The pair's slot among the complete ones, or `none`. Slots [0, used_) are complete: add() writes a
// slot's names before its release store of used_.
std::size_t DecisionCounters::index_of(std::string_view middleware, std::string_view outcome) const {
  const auto used = used_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < used; ++i)
    if (slots_[i].outcome == outcome && slots_[i].middleware == middleware) return i;
  return none;
}

std::size_t DecisionCounters::add(std::string_view middleware, std::string_view outcome) {
  std::lock_guard lock(adding_);
  if (const auto index = index_of(middleware, outcome); index != none) return index;  // added meanwhile
  const auto used = used_.load(std::memory_order_relaxed);
  if (used == capacity) return capacity;
  slots_[used].middleware = middleware;
  slots_[used].outcome = outcome;
  used_.store(used + 1, std::memory_order_release);
  return used;
}

void DecisionCounters::count(std::string_view middleware, std::string_view outcome) {
  auto index = index_of(middleware, outcome);
  if (index == none) index = add(middleware, outcome);
  slots_[index].count.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t DecisionCounters::get(std::string_view middleware, std::string_view outcome) const {
  const auto index = index_of(middleware, outcome);
  return index == none ? 0 : slots_[index].count.load(std::memory_order_relaxed);
}

std::map<std::pair<std::string, std::string>, std::uint64_t> DecisionCounters::snapshot() const {
  std::map<std::pair<std::string, std::string>, std::uint64_t> counts;
  const auto used = used_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < used; ++i)
    counts[{slots_[i].middleware, slots_[i].outcome}] = slots_[i].count.load(std::memory_order_relaxed);
  if (const auto overflow = slots_[capacity].count.load(std::memory_order_relaxed))
    counts[{"overflow", "overflow"}] = overflow;
  return counts;
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
