// Where a read-only command goes with redis.read_from (plugins/redis/connection/read_from.hpp):
// the names the settings take, and the choice among a master's replicas, counted.
#include <catch2/catch.hpp>

#include <vector>

#include "plugins/redis/connection/read_from.hpp"

using namespace routemq::redis;

TEST_CASE("read_from names: master, replica_preferred, replica, and nothing else") {
  for (const auto read_from : {ReadFrom::master, ReadFrom::replica_preferred, ReadFrom::replica})
    CHECK(read_from_named(name_of(read_from)) == read_from);
  CHECK_FALSE(read_from_named("slave"));
  CHECK_FALSE(read_from_named("Replica"));
  CHECK_FALSE(read_from_named(""));
}

TEST_CASE("replica chooser: ready replicas in turn, each read counted, the not-ready ones skipped") {
  ClientStats stats;
  ReplicaChooser chooser(ReadFrom::replica_preferred, stats, "test");
  REQUIRE(chooser.reads_from_replicas());
  std::vector<bool> ready{true, false, true};
  const auto is_ready = [&](std::size_t i) { return static_cast<bool>(ready[i]); };
  std::vector<std::size_t> chosen;
  for (int i = 0; i < 4; ++i) chosen.push_back(chooser.choose_among(ready.size(), is_ready).value_or(99));
  CHECK(chosen == std::vector<std::size_t>{0, 2, 2, 0});  // turn 1 starts at the replica not ready: the next one
  CHECK(stats.replica_reads == 4);
  CHECK(stats.replica_fallbacks == 0);
}

TEST_CASE("replica chooser: none ready or none known, the master serves it, counted as a fallback") {
  ClientStats stats;
  ReplicaChooser chooser(ReadFrom::replica, stats, "test");
  CHECK_FALSE(chooser.choose_among(2, [](std::size_t) { return false; }));
  CHECK_FALSE(chooser.choose_among(0, [](std::size_t) { return true; }));
  CHECK(stats.replica_fallbacks == 2);
  CHECK(chooser.choose_among(1, [](std::size_t) { return true; }) == std::size_t{0});  // back on a replica
  CHECK(stats.replica_reads == 1);
  CHECK_FALSE(ReplicaChooser(ReadFrom::master, stats, "test").reads_from_replicas());
}
