// The manager behind Sentinel, against real redis-sentinel processes (one master, one replica, three
// Sentinels with short timers): found, followed through a graceful failover and a kill -9 of the
// master under 200 coroutines, with a Sentinel down, with every Sentinel down at start, and past a
// Sentinel that names a replica.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "tests/integration/redis/redis_fixture.hpp"
#include "tests/support/fake_sentinel.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/sentinel_group.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

redis::RedisConfig sentinel_config(const std::string& sentinels) {
  auto config = redis_config_for(1);  // host and port unused: the Sentinels say where the master is
  config.sentinel = redis::read_redis_config(ConfigNode(), Environment({{"REDIS_SENTINELS", sentinels},
                                                                       {"REDIS_SENTINEL_MASTER", SentinelGroup::master_name}}))
                        .sentinel;
  return config;
}

std::string address(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// Loaded on the first master; the promoted one has never seen it (NOSCRIPT, then EVAL).
const redis::Script add_script("return redis.call('INCRBY', KEYS[1], ARGV[1])");

// INCRs of one counter from many coroutines until stopped, by outcome: succeeded, sent but not
// answered (applied or not: unknown), and refused at once while degraded (never sent).
struct Writers {
  std::atomic<bool> stop{false};
  std::atomic<long> succeeded{0};
  std::atomic<long> unknown{0};
  std::atomic<long> refused{0};
  std::atomic<int> running{0};
};

awaitable<void> keep_incrementing(redis::RedisManager& r, Writers& writers) {
  ++writers.running;
  while (!writers.stop) {
    std::vector<std::string> incr{"INCR", r.key("counter")};  // named: no braced list across co_await
    const auto result = co_await r.command(std::move(incr));
    (result.succeeded() ? writers.succeeded : result.unavailable() ? writers.refused : writers.unknown)++;
    if (result.unavailable()) {  // degraded: answered at once; do not spin
      asio::steady_timer pause(co_await asio::this_coro::executor, 5ms);
      co_await pause.async_wait(asio::use_awaitable);
    }
  }
  --writers.running;
}

long counter_on(RedisServer& server) {
  const auto reply = server.command({"GET", "test:counter"});  // "$3\r\n123\r\n"
  const auto start = reply.find("\r\n");
  return reply[0] == '$' && start != std::string::npos ? std::stol(reply.substr(start + 2)) : -1;
}

}  // namespace

TEST_CASE("Sentinel: found from one Sentinel, then a graceful failover and a kill -9 under 200 coroutines are followed, nothing replayed") {
  SentinelGroup group;
  const auto first_master = group.master().port(), first_replica = group.replica().port();
  // Only the first Sentinel is given: the others are learned from it.
  redis::RedisManager r(sentinel_config(address(group.sentinels()[0].port())));
  REQUIRE(r.initialize());
  CHECK(r.stats().master == address(first_master));
  CHECK(r.run_sync(r.set("k", "v")));
  CHECK(r.run_sync(r.eval(add_script, {"scripted"}, {"1"})).reply.integer == 1);
  ReceivedMessages received;
  r.subscribe("news", received.handler());
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));

  // Graceful: SENTINEL FAILOVER. +switch-master tells us at once.
  REQUIRE(group.sentinels()[1].command({"SENTINEL", "FAILOVER", SentinelGroup::master_name}) == "+OK\r\n");
  REQUIRE(group.wait_master_is(first_replica));
  REQUIRE(wait_until([&] { return r.stats().master == address(first_replica) && r.is_connected(); }, 15s));
  REQUIRE(wait_until([&] { return r.run_sync(r.set("after-graceful", "1")); }, 10s));
  CHECK(r.stats().failovers == 1);

  // The only Sentinel we were given goes; then the master is killed under load.
  group.sentinels()[0].kill9();
  Writers writers;
  asio::io_context app(1);
  for (int i = 0; i < 200; ++i) asio::co_spawn(app, keep_incrementing(r, writers), asio::detached);
  std::thread app_thread([&] { app.run(); });
  REQUIRE(wait_until([&] { return writers.succeeded > 1000; }, 20s));
  group.replica().kill9();  // the current master
  REQUIRE(group.wait_master_is(first_master));
  REQUIRE(wait_until([&] { return r.stats().master == address(first_master) && r.is_connected(); }, 15s));
  const long succeeded_after_switch = writers.succeeded;
  REQUIRE(wait_until([&] { return writers.succeeded > succeeded_after_switch + 1000; }, 20s));  // writes resumed
  writers.stop = true;
  REQUIRE(wait_until([&] { return writers.running == 0; }, 20s));
  app.stop();
  app_thread.join();

  // Acknowledged writes may be lost with the master (replication is asynchronous), and a write whose
  // answer was lost may have landed; but none is ever applied twice: a replay would push the count
  // above the writes sent once each.
  const long stored = counter_on(group.master());
  CHECK(stored > succeeded_after_switch / 2);
  CHECK(stored <= writers.succeeded + writers.unknown);
  CHECK(r.stats().failovers == 2);
  CHECK(writers.refused + writers.unknown > 0);  // the failover window degraded, without exceptions
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
  REQUIRE(wait_until([&] { return r.run_sync(r.publish("news", "after failover")) == 1; }, 10s));
  REQUIRE(wait_until([&] { return received.contains("news:after failover"); }, 10s));
  CHECK(r.run_sync(r.eval(add_script, {"scripted"}, {"1"})).succeeded());  // reloaded on the new master

  // Every Sentinel down when a manager starts: degraded, saying why; then they come back.
  for (auto& sentinel : group.sentinels()) sentinel.stop();
  redis::RedisManager late(sentinel_config(group.sentinel_list()));
  CHECK_FALSE(late.initialize());
  CHECK_FALSE(late.run_sync(late.set("k", "v")));  // at once, the default
  REQUIRE(wait_until([&] { return late.stats().last_failure.find("none of 3 Sentinel(s)") != std::string::npos; }, 10s));
  CHECK_THAT(late.stats().last_failure, Catch::Contains("no master known"));
  for (auto& sentinel : group.sentinels()) sentinel.start();
  REQUIRE(late.wait_connected(20s));
  CHECK(late.run_sync(late.set("k", "late")));
}

TEST_CASE("Sentinel: a Sentinel that is down is skipped, and one naming a replica is refuted by ROLE") {
  RedisServer master;
  master.start();
  RedisServer replica({.extra_config = {"replicaof 127.0.0.1 " + std::to_string(master.port())}});
  replica.start();
  FakeSentinel stale(replica.port());
  FakeSentinel truthful(master.port());
  const auto nobody = free_port();
  redis::RedisManager r(sentinel_config(address(nobody) + "," + address(stale.port()) + "," + address(truthful.port())));
  r.initialize();
  REQUIRE(r.wait_connected(15s));
  CHECK(r.stats().master == address(master.port()));
  CHECK(r.run_sync(r.set("k", "on the master")));
  CHECK(master.command({"GET", "test:k"}) == "$13\r\non the master\r\n");
  CHECK(stale.questions() >= 1);     // asked, believed, refuted by ROLE
  CHECK(truthful.questions() >= 1);  // then asked next
}
