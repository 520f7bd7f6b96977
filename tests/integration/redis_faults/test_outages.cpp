// The Redis plugin against a real redis-server that dies, stalls, disconnects us and goes silent.
// Assertions are on outcomes and generous deadlines, never on the machine's speed.
#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <thread>

#include "plugins/redis/recipes/distributed_lock.hpp"
#include "tests/integration/redis/redis_fixture.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/silent_proxy.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// Keeps `workers` coroutines doing SET/GET until stopped; counts successes and failures.
struct Load {
  std::atomic<bool> stop{false};
  std::atomic<long> ok{0};
  std::atomic<long> failed{0};
};

awaitable<void> keep_busy(redis::RedisManager& r, Load& load, int id) {
  const auto key = "load:" + std::to_string(id);
  while (!load.stop) {
    std::vector<std::string> command{"SET", r.key(key), "v"};  // named: no braced list across co_await
    auto result = co_await r.command(std::move(command));
    (result.succeeded() ? load.ok : load.failed)++;
    if (!result.ok()) {  // down: do not spin; the circuit answers at once
      asio::steady_timer pause(co_await asio::this_coro::executor, 5ms);
      co_await pause.async_wait(asio::use_awaitable);
    }
  }
}

// Runs `operation` `count` times through the blocking facade; returns how long it took.
template <class Operation>
std::chrono::milliseconds timed(int count, Operation operation) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) operation();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace

TEST_CASE("kill -9 under load: no crash, no hang, fail fast while down, serving again after restart") {
  RedisFixture f;
  auto& r = f.redis;
  Load load;
  asio::io_context app(1);
  for (int i = 0; i < 200; ++i) asio::co_spawn(app, keep_busy(r, load, i), asio::detached);
  std::thread app_thread([&] { app.run(); });
  REQUIRE(wait_until([&] { return load.ok > 1000; }, 20s));

  f.server.kill9();
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  const long failed_before = load.failed;
  REQUIRE(wait_until([&] { return load.failed > failed_before + 100; }, 10s));  // failing, not hanging
  // 1000 calls while down: each refused at once, not after a 1 s socket timeout.
  const auto elapsed = timed(1000, [&] { CHECK(r.run_sync(r.command({"GET", "k"})).unavailable()); });
  CHECK(elapsed < 10s);
  CHECK_FALSE(r.run_sync(r.get("k")));  // the documented default

  f.server.restart();
  REQUIRE(r.wait_connected(10s));
  const long ok_before = load.ok;
  REQUIRE(wait_until([&] { return load.ok > ok_before + 1000; }, 20s));
  CHECK(r.run_sync(r.set("after", "restart")));
  CHECK(r.run_sync(r.get("after")) == "restart");
  CHECK(r.stats().reconnects >= 1);
  load.stop = true;
  app_thread.join();
}

TEST_CASE("CLIENT KILL: the manager reconnects by itself") {
  RedisFixture f;
  auto& r = f.redis;
  CHECK(r.run_sync(r.set("k", "v")));
  const auto reconnects = r.stats().reconnects;
  f.server.command({"CLIENT", "KILL", "TYPE", "normal"});
  REQUIRE(wait_until([&] { return r.stats().reconnects >= reconnects + 2; }, 10s));  // both connections
  REQUIRE(r.wait_connected(10s));
  CHECK(r.run_sync(r.get("k")) == "v");
}

TEST_CASE("CLIENT PAUSE: a command times out instead of hanging, the connection is recycled, then all is well") {
  RedisFixture f;
  auto& r = f.redis;
  CHECK(r.run_sync(r.ping()));
  f.server.command({"CLIENT", "PAUSE", "2500", "ALL"});
  auto paused = r.run_sync(r.command({"GET", "k"}));
  CHECK(paused.failure != redis::Failure::none);  // timed out (or refused while recycling)
  CHECK(r.stats().timeouts >= 1);
  REQUIRE(wait_until([&] { return r.run_sync(r.ping()); }, 15s));
  CHECK(r.run_sync(r.set("k", "after pause")));
}

TEST_CASE("a stopped (SIGSTOP) server: commands time out, health checks notice, it recovers after SIGCONT") {
  RedisFixture f;
  auto& r = f.redis;
  f.server.pause();
  auto result = r.run_sync(r.command({"PING"}));
  CHECK_FALSE(result.succeeded());
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  f.server.resume();
  REQUIRE(r.wait_connected(15s));
  CHECK(r.run_sync(r.ping()));
}

TEST_CASE("a black-holed connection: deadlines, not a hang, and served again once the path heals") {
  RedisServer server;
  server.start();
  SilentProxy proxy(server.port());
  redis::RedisManager r(redis_config_for(proxy.port()));
  r.initialize();
  REQUIRE(r.wait_connected(10s));
  CHECK(r.run_sync(r.set("k", "v")));
  proxy.silence();
  auto silent = r.run_sync(r.command({"GET", r.key("k")}));
  CHECK(silent.failure == redis::Failure::timeout);
  CHECK(r.stats().timeouts >= 1);
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  proxy.speak();
  REQUIRE(r.wait_connected(20s));
  CHECK(r.run_sync(r.get("k")) == "v");
}

TEST_CASE("SCRIPT FLUSH and a restart: scripts keep working") {
  RedisFixture f;
  auto& r = f.redis;
  const redis::Script counter("return redis.call('INCR', KEYS[1])");
  CHECK(r.run_sync(r.eval(counter, {"n"}, {})).reply.integer == 1);
  f.server.command({"SCRIPT", "FLUSH"});
  CHECK(r.run_sync(r.eval(counter, {"n"}, {})).reply.integer == 2);
  f.server.kill9();
  f.server.restart();
  REQUIRE(r.wait_connected(10s));
  CHECK(r.run_sync(r.eval(counter, {"n"}, {})).reply.integer == 1);  // a fresh server: reloaded by EVAL
}

TEST_CASE("subscriptions are restored after a kill -9 and restart") {
  RedisFixture f;
  auto& r = f.redis;
  ReceivedMessages received;
  r.subscribe("events", received.handler());
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
  f.server.kill9();
  REQUIRE(wait_until([&] { return !r.subscriptions_active(); }, 10s));
  f.server.restart();
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 15s));
  REQUIRE(r.wait_connected(10s));
  CHECK(r.run_sync(r.publish("events", "after restart")) == 1);
  REQUIRE(wait_until([&] { return received.size() > 0; }, 10s));
  CHECK(received.all() == std::vector<std::string>{"events:after restart"});
}

TEST_CASE("Redis down at start-up: start() and initialize() return at once, and the manager connects later by itself") {
  RedisServer server;  // port reserved, nothing listening yet
  redis::RedisManager r(redis_config_for(server.port()));
  const auto start = std::chrono::steady_clock::now();
  CHECK(r.start());           // configured: connecting in the background
  CHECK_FALSE(r.initialize());  // seed 001: "True if connection successful": not connected
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK_FALSE(r.is_connected());
  CHECK(r.is_configured());
  CHECK_FALSE(r.is_enabled());  // seed 001: enabled and connected
  CHECK(r.run_sync(r.command({"PING"})).unavailable());
  server.start();
  REQUIRE(r.wait_connected(15s));
  CHECK(r.is_enabled());
  CHECK(r.run_sync(r.ping()));
  r.disconnect();
  CHECK_FALSE(r.is_enabled());
  CHECK(r.initialize());  // up: connected by the time it returns
  CHECK(r.is_enabled());
}

TEST_CASE("a wrong password: never connected, commands unavailable, no crash") {
  RedisServer server({.password = "right"});
  server.start();
  auto config = redis_config_for(server.port());
  config.password = "wrong";
  redis::RedisManager r(config);
  r.initialize();
  CHECK_FALSE(r.wait_connected(2s));
  CHECK(r.run_sync(r.command({"PING"})).unavailable());
  CHECK(r.stats().connection_failures >= 1);
}

TEST_CASE("DEBUG SLEEP: a command times out while Redis is busy, then the manager serves again") {
  RedisFixture f({.extra_config = {"enable-debug-command yes"}});
  auto& r = f.redis;
  REQUIRE(r.run_sync(r.ping()));
  std::thread sleeper([&] { f.server.command({"DEBUG", "SLEEP", "3"}, 20s); });
  // Only once the sleep has begun: a fresh raw connection gets no PING answer.
  auto busy = [&] {
    try {
      f.server.command({"PING"}, 200ms);
      return false;
    } catch (const std::exception&) {
      return true;
    }
  };
  const bool slept = wait_until(busy, 10s);
  const auto stalled = r.run_sync(r.command({"PING"}));
  sleeper.join();
  REQUIRE(slept);
  CHECK(stalled.failure == redis::Failure::timeout);
  CHECK(r.stats().timeouts >= 1);
  REQUIRE(r.wait_connected(15s));
  CHECK(wait_until([&] { return static_cast<bool>(r.run_sync(r.ping())); }, 15s));
}

TEST_CASE("an INCR that timed out on a black-holed path is never replayed by the client") {
  RedisServer server;
  server.start();
  SilentProxy proxy(server.port());
  auto config = redis_config_for(proxy.port());
  config.max_connections = 1;
  redis::RedisManager r(config);
  r.initialize();
  REQUIRE(r.wait_connected(10s));
  REQUIRE(r.run_sync(r.set("n", "0")));
  proxy.silence();
  CHECK(r.run_sync(r.command({"INCR", r.key("n")})).failure == redis::Failure::timeout);
  proxy.speak();  // the held INCR may still reach Redis: its outcome was unknown, so 0 or 1, never 2
  REQUIRE(r.wait_connected(20s));
  REQUIRE(wait_until([&] { return static_cast<bool>(r.run_sync(r.ping())); }, 10s));
  const auto n = r.run_sync(r.get("n"));
  REQUIRE(n);
  CHECK((*n == "0" || *n == "1"));
}

TEST_CASE("a black-holed subscription is noticed by its health check and restored once the path heals") {
  RedisServer server;
  server.start();
  SilentProxy proxy(server.port());
  redis::RedisManager r(redis_config_for(proxy.port()));
  r.initialize();
  REQUIRE(r.wait_connected(10s));
  ReceivedMessages received;  // its handler keeps it alive: repeated PUBLISHes may arrive after the test
  r.subscribe("alerts", received.handler());
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
  proxy.silence();  // nothing is published: only the subscriber's own PINGs can tell
  REQUIRE(wait_until([&] { return !r.subscriptions_active(); }, 15s));
  proxy.speak();
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 20s));
  // Published straight to the server: only the restored subscription can deliver it.
  auto delivered = [&] {
    server.command({"PUBLISH", "alerts", "healed"});
    return received.contains("alerts:healed");
  };
  CHECK(wait_until(delivered, 10s));
}

TEST_CASE("a BLPOP on its own connection completes when Redis is killed, long before its timeout") {
  RedisFixture f;
  auto& r = f.redis;
  std::atomic<bool> finished{false};
  std::optional<std::pair<std::string, std::string>> popped{{"not", "yet"}};
  std::thread waiter([&] {
    popped = r.run_sync(r.blpop({"queue"}, 60s));
    finished = true;
  });
  auto blocked = [&] { return f.server.command({"INFO", "clients"}).find("blocked_clients:1") != std::string::npos; };
  const bool was_blocked = wait_until(blocked, 10s);
  f.server.kill9();
  const bool completed = wait_until([&] { return finished.load(); }, 10s);
  waiter.join();
  REQUIRE(was_blocked);
  REQUIRE(completed);
  CHECK_FALSE(popped);
}

TEST_CASE("a lock acquire whose reply is lost leaves no phantom lock behind") {
  RedisServer server;
  server.start();
  SilentProxy proxy(server.port());
  redis::RedisManager r(redis_config_for(proxy.port()));
  r.initialize();
  REQUIRE(r.wait_connected(10s));
  {  // loads the scripts into Redis: EVALSHA must run the acquire, not answer NOSCRIPT
    auto warm = r.run_sync(redis::DistributedLock::acquire(r, "warm", {.ttl = 30s}));
    REQUIRE(warm.acquired());
    REQUIRE(r.run_sync(warm.release()));
  }
  proxy.hold_replies();  // the acquire runs on Redis, its reply is held until the client gives up
  auto lost_reply = r.run_sync(redis::DistributedLock::acquire(r, "job", {.ttl = 30s}));
  CHECK(lost_reply.outcome() == redis::DistributedLock::Outcome::unavailable);
  // Redis set the lock (its fencing counter moved) although nobody was told it holds it.
  CHECK(server.command({"EXISTS", "test:lock:{job}:fence"}) == ":1\r\n");
  proxy.speak();
  // Removed by our token once Redis answers again, long before its 30 s TTL.
  CHECK(wait_until([&] { return server.command({"EXISTS", "test:lock:{job}"}) == ":0\r\n"; }, 15s));
  // And the next acquire gets it once the recycled connections are back.
  CHECK(wait_until([&] { return r.run_sync(redis::DistributedLock::acquire(r, "job", {.ttl = 30s})).acquired(); }, 15s));
}
