// A master of a real Redis Cluster killed with SIGKILL while 200 coroutines write through one
// RedisManager: its replica is promoted by the cluster, the manager finds it (no restart), writes to
// its slots resume, and writes to the other masters' slots never fail. Nothing is resent: a write in
// flight when the master died fails with an unknown outcome, the rest fail at once as unavailable.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "plugins/redis/cluster/hash_slot.hpp"
#include "tests/integration/redis_cluster/cluster_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/received_messages.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

struct WriterTally {
  std::atomic<long> succeeded{0};
  std::atomic<long> failed{0};
  std::atomic<long> succeeded_after_promotion{0};
};

// Writes `key` until told to stop; after a failure it waits a little (the circuit is open: a
// failure costs nothing, and a hot loop would starve the other writers).
awaitable<void> keep_writing(redis::RedisManager& r, std::string key, const std::atomic<bool>& stop,
                             const std::atomic<bool>& promoted, WriterTally& tally) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (!stop) {
    const bool after_promotion = promoted;
    if (co_await r.set(key, "v")) {
      ++tally.succeeded;
      if (after_promotion) ++tally.succeeded_after_promotion;
      continue;
    }
    ++tally.failed;
    pause.expires_after(5ms);
    co_await pause.async_wait(asio::use_awaitable);
  }
}

// Sets `key` to 1, 2, 3 ... until told to stop; `acknowledged` is the last value Redis confirmed.
awaitable<void> count_up(redis::RedisManager& r, std::string key, std::atomic<long>& acknowledged,
                         std::atomic<long>& failed, const std::atomic<bool>& stop) {
  for (long n = 1; !stop; ++n) {
    if (co_await r.set(key, std::to_string(n)))
      acknowledged = n;
    else
      ++failed;
  }
}

}  // namespace

TEST_CASE("cluster client: a master killed -9 under 200 writers, its replica takes over, the others never stop") {
  auto& cluster = RedisCluster::shared();
  redis::RedisManager r(cluster_config("failover:"));
  wait_all_masters(r);
  const auto victim_port = cluster.master_port_of(redis::hash_slot("failover:w0"));
  auto* victim = cluster.node_on(victim_port);
  REQUIRE(victim);

  // 200 writers, each on its own key: those whose slot the victim serves, and the others.
  WriterTally on_victim, elsewhere;
  std::atomic<bool> stop{false}, promoted{false};
  asio::io_context io;
  int victim_writers = 0;
  for (int i = 0; i < 200; ++i) {
    const auto key = "w" + std::to_string(i);
    const bool victims = cluster.master_port_of(redis::hash_slot("failover:" + key)) == victim_port;
    victim_writers += victims;
    asio::co_spawn(io, keep_writing(r, key, stop, promoted, victims ? on_victim : elsewhere), asio::detached);
  }
  REQUIRE(victim_writers > 0);
  REQUIRE(victim_writers < 200);
  std::thread writers([&] { io.run(); });

  REQUIRE(wait_until([&] { return on_victim.succeeded > 1000 && elsewhere.succeeded > 1000; }, 10s));
  const auto failed_elsewhere_before = elsewhere.failed.load();
  const auto refreshes_before = r.stats().slot_refreshes;
  victim->kill9();
  // Until the cluster promotes the replica, stats (and so /ready, /metrics) name the master we lost.
  const auto victim_address = "127.0.0.1:" + std::to_string(victim_port);
  const bool seen_unreachable = wait_until(
      [&] {
        for (const auto& master : r.stats().cluster_masters)
          if (master.address == victim_address && master.connections_ready == 0) return true;
        return false;
      },
      5s, 1ms);
  const bool taken_over = wait_until(
      [&] {
        const auto port = cluster.master_port_of(redis::hash_slot("failover:w0"));
        return port != 0 && port != victim_port;
      },
      20s, 50ms);
  promoted = true;
  const bool resumed = taken_over && wait_until([&] { return on_victim.succeeded_after_promotion > 100; }, 10s);
  stop = true;
  writers.join();

  CHECK(seen_unreachable);
  CHECK(taken_over);
  CHECK(resumed);
  CHECK(on_victim.failed > 0);                             // the window was seen, and degraded
  CHECK(elsewhere.failed == failed_elsewhere_before);      // the other masters' slots never failed
  CHECK(r.stats().slot_refreshes > refreshes_before);
  CHECK(r.is_connected());
  for (const auto& master : r.stats().cluster_masters) {  // the promoted replica replaced the victim
    CHECK(master.address != victim_address);
    CHECK(master.connections_ready == 2);
  }

  // The victim comes back as a replica of its successor; the cluster is whole for the next test.
  victim->start();
  CHECK(cluster.wait_ok());
}

TEST_CASE("cluster client: the subscriber's node killed -9, it moves to another master and subscribes again") {
  auto& cluster = RedisCluster::shared();
  redis::RedisManager r(cluster_config("subscriber:"));
  wait_all_masters(r);
  ReceivedMessages received;
  r.subscribe("alerts", received.handler());
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
  // The node holding the subscription: PUBSUB NUMSUB counts the node's own subscribers only.
  RedisServer* holder = nullptr;
  for (std::size_t i = 0; i < cluster.size() && !holder; ++i)
    if (cluster.node(i).command({"PUBSUB", "NUMSUB", "alerts"}).ends_with(":1\r\n")) holder = &cluster.node(i);
  REQUIRE(holder);

  holder->kill9();
  // Published through a live master until one arrives: the subscriber moved and subscribed again.
  CHECK(wait_until(
      [&] {
        r.run_sync(r.publish("alerts", "after"));
        return received.contains("alerts:after");
      },
      20s, 50ms));

  holder->start();  // back as a replica of its successor, for the tests after this one
  CHECK(cluster.wait_ok());
}

TEST_CASE("cluster client: 200 writers while their slots move to another master (redis-cli --cluster reshard), none fails") {
  auto& cluster = RedisCluster::shared();
  redis::RedisManager r(cluster_config("reshard:"));
  wait_all_masters(r);
  const auto source_port = cluster.master_port_of(redis::hash_slot("reshard:w0"));
  auto* source = cluster.node_on(source_port);
  REQUIRE(source);
  RedisServer* target = nullptr;
  for (std::size_t i = 0; i < cluster.size() && !target; ++i)
    if (cluster.node(i).port() != source_port && cluster.node(i).command({"ROLE"}).find("master") != std::string::npos)
      target = &cluster.node(i);
  REQUIRE(target);

  // The first 200 slots the source serves (redis-cli moves those), and a writer's key in each.
  std::vector<std::uint16_t> moving;
  for (std::uint16_t slot = 0; slot < redis::cluster_slots && moving.size() < 200; ++slot)
    if (cluster.master_port_of(slot) == source_port) moving.push_back(slot);
  REQUIRE(moving.size() == 200);
  std::map<std::uint16_t, std::string> key_in_slot;
  for (int n = 0; key_in_slot.size() < moving.size() && n < 10'000'000; ++n) {
    const auto key = "w" + std::to_string(n);
    const auto slot = redis::hash_slot("reshard:" + key);
    if (std::binary_search(moving.begin(), moving.end(), slot)) key_in_slot.try_emplace(slot, key);
  }
  REQUIRE(key_in_slot.size() == 200);

  // Each writer counts up on its key; what it last saw acknowledged must be what the key holds.
  std::vector<std::atomic<long>> acknowledged(key_in_slot.size());
  std::atomic<long> failed{0};
  std::atomic<bool> stop{false};
  asio::io_context io;
  std::size_t index = 0;
  for (const auto& [slot, key] : key_in_slot)
    asio::co_spawn(io, count_up(r, key, acknowledged[index++], failed, stop), asio::detached);
  std::thread writers([&] { io.run(); });
  REQUIRE(wait_until([&] { return acknowledged[0] > 100; }, 10s));
  const auto redirects_before = r.stats().redirects;
  const auto id = [](RedisServer& node) {
    const auto reply = node.command({"CLUSTER", "MYID"});
    return reply.substr(reply.find("\r\n") + 2, 40);
  };
  auto reshard = ChildProcess::spawn({"redis-cli", "--cluster", "reshard", "127.0.0.1:" + std::to_string(source_port),
                                      "--cluster-from", id(*source), "--cluster-to", id(*target), "--cluster-slots",
                                      "200", "--cluster-yes"});
  const bool moved = reshard.wait_exit(60s) && reshard.exit_code() == 0;
  stop = true;
  writers.join();

  INFO(reshard.log_text());
  REQUIRE(moved);
  CHECK(cluster.master_port_of(moving.front()) == target->port());
  CHECK(failed == 0);                                // every write followed ASK and MOVED through the move
  CHECK(r.stats().redirects > redirects_before);     // and there were some to follow
  index = 0;
  for (const auto& [slot, key] : key_in_slot)        // nothing lost, nothing replayed over a newer value
    CHECK(r.run_sync(r.get(key)) == std::to_string(acknowledged[index++].load()));
}

TEST_CASE("cluster client: the whole cluster down at start-up, commands fail at once, all is found when it comes up") {
  RedisCluster cluster;  // its own: every node of it goes down
  for (std::size_t i = 0; i < cluster.size(); ++i) cluster.node(i).kill9();
  auto config = cluster_config("startup:", cluster);
  config.cluster.nodes = {"127.0.0.1:" + std::to_string(cluster.node(0).port()),
                          "127.0.0.1:" + std::to_string(cluster.node(1).port())};
  redis::RedisManager r(config);
  CHECK_FALSE(r.initialize());
  CHECK_FALSE(r.is_connected());
  CHECK_FALSE(r.run_sync(r.set("k", "v")));  // at once, as unavailable
  CHECK(r.stats().unavailable > 0);

  for (std::size_t i = 0; i < cluster.size(); ++i) cluster.node(i).start();  // they remember the cluster
  REQUIRE(cluster.wait_ok());
  REQUIRE(r.wait_connected(20s));  // every master found, with no restart of ours
  for (int i = 0; i < 30; ++i) CHECK(r.run_sync(r.set("k" + std::to_string(i), "v")));
  CHECK(r.stats().cluster_masters.size() == 3);
}

TEST_CASE("cluster client: a master added and given slots that hold keys, the client follows the keys there") {
  RedisCluster cluster;  // its own: it grows
  redis::RedisManager r(cluster_config("grow:", cluster));
  REQUIRE(r.initialize());
  for (int i = 0; i < 100; ++i) REQUIRE(r.run_sync(r.set("k" + std::to_string(i), std::to_string(i))));

  auto& added = cluster.add_master();
  const auto reply = added.command({"CLUSTER", "MYID"});
  auto reshard = ChildProcess::spawn({"redis-cli", "--cluster", "reshard", "127.0.0.1:" + std::to_string(cluster.node(0).port()),
                                      "--cluster-from", "all", "--cluster-to", reply.substr(reply.find("\r\n") + 2, 40),
                                      "--cluster-slots", "2000", "--cluster-yes"});
  INFO(reshard.log_text());
  REQUIRE((reshard.wait_exit(60s) && reshard.exit_code() == 0));

  int on_added = 0;
  for (int i = 0; i < 100; ++i) {
    const auto key = "k" + std::to_string(i);
    CHECK(r.run_sync(r.get(key)) == std::to_string(i));  // wherever it went
    on_added += cluster.master_port_of(redis::hash_slot("grow:" + key)) == added.port();
  }
  CHECK(on_added > 0);
  CHECK(r.run_sync(r.set("k0", "again")));
  CHECK(wait_until([&] { return r.stats().cluster_masters.size() == 4; }, 10s));  // the new master is known
}
