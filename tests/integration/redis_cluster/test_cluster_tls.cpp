// The manager on a Redis Cluster that speaks only TLS to its clients' eyes: the nodes' bus and
// replication run over TLS, CLUSTER SLOTS names their TLS ports, and the manager reaches every
// master with the same redis.tls settings as one Redis.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/pipeline.hpp"
#include "tests/integration/redis_cluster/cluster_fixture.hpp"
#include "tests/support/test_certificates.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

TEST_CASE("cluster over TLS: the masters learned by their TLS ports, commands, splits and pipelines on every one") {
  RedisCluster cluster(3, 0, RedisTlsOptions{.certificate = test_certificates().server});
  auto config = redis_config_for(0, "tls:");
  config.cluster.nodes = {"127.0.0.1:" + std::to_string(cluster.node(0).tls_port())};
  config.max_connections = 6;  // two for each master, as wait_all_masters expects
  config.tls.enabled = true;
  config.tls.ca_file = test_certificates().ca;
  redis::RedisManager r(config);
  wait_all_masters(r);

  std::set<std::string> tls_addresses;
  for (std::size_t i = 0; i < cluster.size(); ++i) tls_addresses.insert("127.0.0.1:" + std::to_string(cluster.node(i).tls_port()));
  std::set<std::string> learned;
  for (const auto& master : r.stats().cluster_masters) learned.insert(master.address);
  CHECK(learned == tls_addresses);

  std::vector<std::string> keys;
  redis::Pipeline pipe(r);
  std::vector<redis::Queued<std::optional<long long>>> counted;
  for (int i = 0; i < 30; ++i) {
    keys.push_back("k" + std::to_string(i));
    REQUIRE(r.run_sync(r.set(keys.back(), "v" + std::to_string(i))));
    counted.push_back(pipe.incr("n" + std::to_string(i)));
  }
  const auto values = r.run_sync(r.mget(keys));
  REQUIRE(values.size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK(values[i] == "v" + std::to_string(i));
  REQUIRE(r.run_sync(pipe.run()));
  for (auto& count : counted) CHECK(count.get() == 1);
  CHECK(r.run_sync(r.keys("k*")).size() == keys.size());
  CHECK(r.run_sync(r.del(keys)) == static_cast<long long>(keys.size()));
}
