// redis.read_from behind real Sentinels (one master, one replica, three Sentinels): reads served by
// the replica Sentinel names (its INFO commandstats counts them, the master's does not), writes by
// the master; the replica killed -9, reads fall back to the master and still answer; after a
// failover the promoted replica is the master, and no longer read from as a replica.
#include <catch2/catch.hpp>

#include <string>

#include "plugins/redis/pipeline.hpp"
#include "tests/integration/redis/redis_fixture.hpp"
#include "tests/support/sentinel_group.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

redis::RedisConfig reading_from_replicas(SentinelGroup& group, const std::string& read_from) {
  auto config = redis_config_for(1);  // host and port unused: the Sentinels say where the master is
  config.sentinel = redis::read_redis_config(ConfigNode(), Environment({{"REDIS_SENTINELS", group.sentinel_list()},
                                                                       {"REDIS_SENTINEL_MASTER", SentinelGroup::master_name},
                                                                       {"REDIS_READ_FROM", read_from}}))
                        .sentinel;
  config.read_from = *redis::read_from_named(read_from);
  return config;
}

long long get_calls_on(RedisServer& server) {
  const auto info = server.command({"INFO", "commandstats"});
  const std::string field = "cmdstat_get:calls=";
  const auto at = info.find(field);
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + field.size()));
}

std::string address_of(RedisServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

bool replica_ready(redis::RedisManager& r, const std::string& address) {
  for (const auto& replica : r.stats().replicas)
    if (replica.address == address) return replica.connections_ready > 0;
  return false;
}

}  // namespace

TEST_CASE("Sentinel: read_from replica sends reads to the replica and writes to the master, and falls back to the master with the replica killed") {
  SentinelGroup group;
  redis::RedisManager r(reading_from_replicas(group, "replica"));
  REQUIRE(r.initialize());
  REQUIRE(wait_until([&] { return replica_ready(r, address_of(group.replica())); }, 10s));

  CHECK(r.run_sync(r.set("k", "v")));
  CHECK(group.master().command({"GET", "test:k"}) == "$1\r\nv\r\n");  // the write went to the master
  // Replication is asynchronous: a read may miss the write at first, then sees it.
  REQUIRE(wait_until([&] { return r.run_sync(r.get("k")) == std::optional<std::string>("v"); }, 5s));

  const auto replica_gets = get_calls_on(group.replica()), master_gets = get_calls_on(group.master());
  const auto reads = r.stats().replica_reads;
  for (int i = 0; i < 10; ++i) CHECK(r.run_sync(r.get("k")) == std::optional<std::string>("v"));
  CHECK(get_calls_on(group.replica()) == replica_gets + 10);
  CHECK(get_calls_on(group.master()) == master_gets);
  CHECK(r.stats().replica_reads == reads + 10);

  // A pipeline with a write goes to the master whole; one of reads only to the replica.
  redis::Pipeline mixed(r);
  auto mixed_read = mixed.get("k");
  mixed.set("k2", "w");
  CHECK(r.run_sync(mixed.run()));
  CHECK(mixed_read.get() == std::optional<std::string>("v"));
  CHECK(get_calls_on(group.master()) == master_gets + 1);
  redis::Pipeline reads_only(r);
  auto first = reads_only.get("k");
  auto second = reads_only.get("k2");
  CHECK(r.run_sync(reads_only.run()));
  CHECK(first.get() == std::optional<std::string>("v"));
  CHECK(get_calls_on(group.replica()) == replica_gets + 10 + 2);
  (void)second;

  // The replica killed for real: reads answer from the master, each fallback counted.
  group.replica().kill9();
  REQUIRE(wait_until([&] { return !replica_ready(r, address_of(group.replica())); }, 5s));
  const auto fallbacks = r.stats().replica_fallbacks;
  for (int i = 0; i < 5; ++i) CHECK(r.run_sync(r.get("k")) == std::optional<std::string>("v"));
  CHECK(get_calls_on(group.master()) == master_gets + 1 + 5);
  CHECK(r.stats().replica_fallbacks == fallbacks + 5);
}

TEST_CASE("Sentinel: read_from replica_preferred follows a failover: the promoted replica is the master, not read as a replica") {
  SentinelGroup group;
  const auto first_replica = address_of(group.replica());
  redis::RedisManager r(reading_from_replicas(group, "replica_preferred"));
  REQUIRE(r.initialize());
  REQUIRE(wait_until([&] { return replica_ready(r, first_replica); }, 10s));

  REQUIRE(group.sentinels()[0].command({"SENTINEL", "FAILOVER", SentinelGroup::master_name}) == "+OK\r\n");
  REQUIRE(group.wait_master_is(group.replica().port()));
  // Followed: the master is the promoted replica, which is no longer read from as a replica (the
  // replicas are asked again after the move; the demoted master joins them once Sentinel has
  // reconfigured it, which takes Sentinel seconds: not waited for here).
  REQUIRE(wait_until([&] { return r.stats().master == first_replica; }, 10s));
  const auto listed = [&](const std::string& address) {
    for (const auto& replica : r.stats().replicas)
      if (replica.address == address) return true;
    return false;
  };
  CHECK(wait_until([&] { return !listed(first_replica); }, 5s));
  // The master's connections may still be moving (calls degrade meanwhile): the write lands once they are.
  CHECK(wait_until([&] { return r.run_sync(r.set("k", "after")); }, 5s));
  CHECK(wait_until([&] { return r.run_sync(r.get("k")) == std::optional<std::string>("after"); }, 5s));
}
