// The decision counters: exact under concurrent counting, and bounded.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "middleware/decision_counters.hpp"

using routemq::middleware::DecisionCounters;

TEST_CASE("decision counters are exact when threads count the same and new pairs at once") {
  auto counters = std::make_unique<DecisionCounters>();
  constexpr int threads = 4, rounds = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        counters->count("rate_limit", i % 2 ? "allowed" : "limited");
        counters->count("worker", std::to_string(t));  // a pair only this thread counts
        if (i % 1000 == 0) counters->count("shared", std::to_string(i / 1000));  // pairs added while others count
      }
    });
  for (auto& worker : workers) worker.join();
  CHECK(counters->get("rate_limit", "allowed") == threads * rounds / 2);
  CHECK(counters->get("rate_limit", "limited") == threads * rounds / 2);
  for (int t = 0; t < threads; ++t) CHECK(counters->get("worker", std::to_string(t)) == rounds);
  CHECK(counters->get("shared", "7") == threads);
  CHECK(counters->get("rate_limit", "whitelisted") == 0);
  const auto snapshot = counters->snapshot();
  CHECK(snapshot.size() == 2 + threads + rounds / 1000);
  CHECK(snapshot.at({"worker", "0"}) == rounds);
}

TEST_CASE("decision counters past their capacity count the rest together as overflow") {
  auto counters = std::make_unique<DecisionCounters>();
  for (std::size_t i = 0; i < DecisionCounters::capacity + 10; ++i) counters->count("many", std::to_string(i));
  const auto snapshot = counters->snapshot();
  CHECK(snapshot.size() == DecisionCounters::capacity + 1);
  CHECK(snapshot.at({"many", "0"}) == 1);
  CHECK(snapshot.at({"overflow", "overflow"}) == 10);
  CHECK(counters->get("many", std::to_string(DecisionCounters::capacity + 1)) == 0);  // in the overflow
}
