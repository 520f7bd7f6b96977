// Raw commands that would corrupt the shared connections are refused; a leased connection runs them:
// optimistic transactions, SELECT and blocking commands, against a real redis-server.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

TEST_CASE("raw commands that would change or hold the shared connections are refused before they are sent") {
  RedisFixture f;
  auto& r = f.redis;
  const auto commands_before = r.stats().commands;
  for (const auto& command : std::vector<std::vector<std::string>>{{"SELECT", "1"}, {"WATCH", r.key("k")}, {"MULTI"},
                                                                   {"BLPOP", r.key("q"), "0"}, {"SUBSCRIBE", "c"},
                                                                   {"CLIENT", "REPLY", "OFF"}, {"HELLO", "3"}}) {
    const auto result = f.sync(r.command(command));
    CHECK(result.failure == redis::Failure::refused);
    CHECK_FALSE(result.detail.empty());
  }
  redis::Batch batch;
  batch.push({"SET", r.key("a"), "1"}).push({"SELECT", "2"});
  for (const auto& result : f.sync(r.pipeline(batch))) CHECK(result.failure == redis::Failure::refused);
  redis::Batch watched;
  watched.push({"WATCH", r.key("a")});
  CHECK(f.sync(r.transaction(watched)).failure == redis::Failure::refused);
  CHECK(r.stats().commands == commands_before);  // nothing was sent
  // The shared connections are as they were: still db 0, still answering every caller.
  CHECK(f.sync(r.exists("a")) == false);
  REQUIRE(f.sync(r.set("k", "v")));
  CHECK(f.server.command({"GET", "test:k"}) == "$1\r\nv\r\n");
}

TEST_CASE("a lease runs an optimistic transaction: EXEC applies it, or returns nil when a WATCHed key changed") {
  RedisFixture f;
  auto& r = f.redis;
  REQUIRE(f.sync(r.set("stock", "5")));
  auto decrement = [&](bool interfere) {
    auto lease = r.lease();
    REQUIRE(f.sync(lease.command({"WATCH", r.key("stock")})).succeeded());
    const auto stock = std::stoi(f.sync(lease.command({"GET", r.key("stock")})).reply.text);
    if (interfere) f.server.command({"SET", "test:stock", "100"});  // another client, between WATCH and EXEC
    redis::Batch update;
    update.push({"SET", r.key("stock"), std::to_string(stock - 1)});
    return f.sync(lease.transaction(update));
  };
  const auto applied = decrement(false);
  REQUIRE(applied.succeeded());
  CHECK(applied.reply.is_array());
  CHECK(f.sync(r.get("stock")) == "4");
  const auto aborted = decrement(true);
  CHECK(aborted.ok());
  CHECK(aborted.reply.is_nil());  // the optimistic transaction lost: nothing written
  CHECK(f.sync(r.get("stock")) == "100");
}

TEST_CASE("a lease holds SELECT and blocking commands to itself, and its connection goes with it") {
  RedisFixture f;
  auto& r = f.redis;
  auto clients = [&] {
    const auto info = f.server.command({"INFO", "clients"});
    const auto at = info.find("connected_clients:") + std::string("connected_clients:").size();
    return std::stoi(info.substr(at));
  };
  const auto before = clients();
  {
    auto lease = r.lease({.command_timeout = 5s});
    REQUIRE(f.sync(lease.command({"SELECT", "3"})).succeeded());
    REQUIRE(f.sync(lease.command({"SET", r.key("in-db-3"), "x"})).succeeded());
    CHECK_FALSE(f.sync(r.exists("in-db-3")));  // the shared connections stay on db 0
    auto pushed = std::async(std::launch::async, [&] {
      std::this_thread::sleep_for(200ms);  // after the BLPOP is waiting (if it were shared, GET below would wait too)
      return f.server.command({"RPUSH", "test:jobs", "job-1"});
    });
    REQUIRE(f.sync(lease.command({"SELECT", "0"})).succeeded());
    const auto popped = f.sync(lease.command({"BLPOP", r.key("jobs"), "3"}));
    REQUIRE(popped.succeeded());
    CHECK(popped.reply.elements.at(1).text == "job-1");
    pushed.get();
    CHECK(f.sync(lease.command({"SUBSCRIBE", "c"})).failure == redis::Failure::refused);  // not even here
    CHECK(clients() == before + 1);
  }
  CHECK(wait_until([&] { return clients() == before; }, 5s));

  auto view = r.scoped("t:");
  CHECK(f.sync(view.lease().command({"GET", "k"})).failure == redis::Failure::refused);
  f.server.stop();
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  CHECK(f.sync(r.lease().command({"GET", "k"})).unavailable());
}
