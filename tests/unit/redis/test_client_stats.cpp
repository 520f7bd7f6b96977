// The client counters: what the engine's strand counts alone and what other threads count with an
// atomic add are kept apart, and read as their sums.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "plugins/redis/connection/client_stats.hpp"

using namespace routemq::redis;

TEST_CASE("client stats: counts from the strand and from other threads add up, none lost") {
  ClientStats stats;
  const auto hit = Result::success(Reply::string("v"));
  const auto miss = Result::success(Reply::nil());
  // The strand's side, one writer: a load and a store each.
  for (int i = 0; i < 1000; ++i) {
    stats.count_command(true);
    stats.count_reads(i % 4 == 0 ? miss : hit, 1, true);
  }
  // Callers' threads at once (a typed pipeline counts its reads where it resumes): atomic adds.
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        stats.count_command(false);
        stats.count_reads(Result::success(Reply::array({Reply::string("a"), Reply::nil()})), 2);
      }
    });
  for (auto& caller : callers) caller.join();
  CHECK(stats.all_commands() == 5000);
  CHECK(stats.all_hits() == 750 + 4000);
  CHECK(stats.all_misses() == 250 + 4000);
  // An error reply or no reply is no read, wherever it is counted.
  stats.count_reads(Result::success(Reply::error("WRONGTYPE")), 1, true);
  stats.count_reads(Result::failed(Failure::unavailable, "down"), 1);
  CHECK(stats.all_hits() + stats.all_misses() == 9000);
}
