// redis.read_from on a real cluster: reads served by the slot's replica (its INFO commandstats
// counts them, the master's does not), writes by the master, and with the replica killed -9 the
// reads fall back to the master and still answer.
#include <catch2/catch.hpp>

#include <string>

#include "plugins/redis/cluster/hash_slot.hpp"
#include "tests/integration/redis_cluster/cluster_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// A number after `field` in an INFO text ("cmdstat_get:calls=12," -> 12); 0 when absent.
long long info_number(const std::string& info, const std::string& field) {
  const auto at = info.find(field);
  if (at == std::string::npos) return 0;
  return std::stoll(info.substr(at + field.size()));
}

long long calls_on(RedisServer& node, const std::string& command) {
  return info_number(node.command({"INFO", "commandstats"}), "cmdstat_" + command + ":calls=");
}

// The replica of the master on `master_port`, as the nodes' INFO replication says.
RedisServer* replica_of(RedisCluster& cluster, std::uint16_t master_port) {
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    auto& node = cluster.node(i);
    if (!node.running()) continue;
    const auto info = node.command({"INFO", "replication"});
    if (info.find("role:slave") != std::string::npos && info_number(info, "master_port:") == master_port) return &node;
  }
  return nullptr;
}

bool in_sync(RedisServer& replica) {
  return replica.command({"INFO", "replication"}).find("master_link_status:up") != std::string::npos;
}

bool every_replica_ready(redis::RedisManager& r, std::size_t replicas) {
  const auto stats = r.stats();
  if (stats.replicas.size() != replicas) return false;
  for (const auto& replica : stats.replicas)
    if (replica.connections_ready == 0) return false;
  return true;
}

}  // namespace

TEST_CASE("cluster client: read_from replica sends reads to the slot's replica and writes to its master, and falls back to the master with the replica killed") {
  auto& cluster = RedisCluster::shared();
  auto config = cluster_config("replicas:");
  config.read_from = redis::ReadFrom::replica;
  redis::RedisManager r(config);
  wait_all_masters(r);
  REQUIRE(wait_until([&] { return every_replica_ready(r, 3); }, 10s));

  // Keys with one hash tag: one slot, one master, one replica.
  const auto master_port = cluster.master_port_of(redis::hash_slot("replicas:{rr}a"));
  auto* master = cluster.node_on(master_port);
  auto* replica = replica_of(cluster, master_port);
  REQUIRE(master);
  REQUIRE(replica);

  const auto master_sets = calls_on(*master, "set");
  CHECK(r.run_sync(r.set("{rr}a", "v")));
  CHECK(calls_on(*master, "set") == master_sets + 1);  // the write went to the master
  // Replication is asynchronous: a read may miss the write at first, then sees it.
  REQUIRE(wait_until([&] { return r.run_sync(r.get("{rr}a")) == std::optional<std::string>("v"); }, 5s));

  const auto replica_gets = calls_on(*replica, "get"), master_gets = calls_on(*master, "get");
  const auto before = r.stats();
  for (int i = 0; i < 10; ++i) CHECK(r.run_sync(r.get("{rr}a")) == std::optional<std::string>("v"));
  const auto hashes = r.run_sync(r.mget({"{rr}a", "{rr}missing"}));
  CHECK(calls_on(*replica, "get") == replica_gets + 10);
  CHECK(calls_on(*replica, "mget") >= 1);
  CHECK(calls_on(*master, "get") == master_gets);
  CHECK(r.stats().replica_reads == before.replica_reads + 11);
  CHECK(r.stats().replica_fallbacks == before.replica_fallbacks);
  CHECK(hashes.size() == 2);

  // The replica killed for real: its connections drop at once, reads go to the master and answer.
  replica->kill9();
  const auto replica_address = "127.0.0.1:" + std::to_string(replica->port());
  REQUIRE(wait_until(
      [&] {
        for (const auto& known : r.stats().replicas)
          if (known.address == replica_address && known.connections_ready > 0) return false;
        return true;
      },
      5s));
  const auto master_gets_after_kill = calls_on(*master, "get");
  const auto fallbacks = r.stats().replica_fallbacks;
  for (int i = 0; i < 5; ++i) CHECK(r.run_sync(r.get("{rr}a")) == std::optional<std::string>("v"));
  CHECK(calls_on(*master, "get") == master_gets_after_kill + 5);
  CHECK(r.stats().replica_fallbacks == fallbacks + 5);
  CHECK(r.run_sync(r.set("{rr}b", "w")));  // writes never cared

  // The cluster whole again for the next test: the replica back and in sync.
  replica->start();
  CHECK(cluster.wait_ok());
  CHECK(wait_until([&] { return in_sync(*replica); }, 10s));
}

TEST_CASE("cluster client: read_from master (the default) never reads from a replica") {
  redis::RedisManager r(cluster_config("replicas:"));
  wait_all_masters(r);
  CHECK(r.run_sync(r.set("{rm}a", "v")));
  CHECK(r.run_sync(r.get("{rm}a")) == std::optional<std::string>("v"));
  CHECK(r.stats().replicas.empty());
  CHECK(r.stats().replica_reads == 0);
  CHECK(r.stats().replica_fallbacks == 0);
}
