#pragma once
// A RedisManager on the test process's one Redis Cluster (tests/support/redis_cluster.hpp).
#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "plugins/redis/redis_manager.hpp"
#include "tests/integration/redis/redis_fixture.hpp"
#include "tests/support/redis_cluster.hpp"
#include "tests/support/wait_until.hpp"

namespace routemq::test {

// Keys under `prefix`, one seed node (the others are learned), short timers as the other Redis tests.
inline redis::RedisConfig cluster_config(const std::string& prefix, RedisCluster& cluster = RedisCluster::shared()) {
  auto config = redis_config_for(0, prefix);
  config.cluster.nodes = {"127.0.0.1:" + std::to_string(cluster.node(0).port())};  // one seed: the rest is learned
  config.max_connections = 6;  // shared out among the three masters: two each, as the one-Redis tests have
  return config;
}

// Connected to every master (two connections each).
inline void wait_all_masters(redis::RedisManager& r) {
  REQUIRE(r.initialize());
  REQUIRE(wait_until([&] { return r.stats().connections_ready == 6; }, std::chrono::seconds(10)));
}

}  // namespace routemq::test
