// A RedisManager on the caller's io_context (RedisManager(config, io)): its connections on a strand
// of that io_context, no thread of its own. Against a real redis-server.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// An io_context run by `count` threads until destroyed.
class IoThreads {
 public:
  explicit IoThreads(int count) : work_(asio::make_work_guard(io)) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([this] { io.run(); });
  }
  ~IoThreads() {
    work_.reset();
    io.stop();
    for (auto& thread : threads_) thread.join();
  }

  asio::io_context io;

 private:
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

// A redis-server and a connected manager on an io_context run by `threads` threads. Destroyed in
// reverse: the manager, then the io threads, then the server.
struct SharedIoFixture {
  explicit SharedIoFixture(int threads, std::string client_name = "routemq") : io_threads(threads) {
    server.start();
    auto config = redis_config_for(server.port());
    config.client_name = std::move(client_name);
    manager = std::make_unique<redis::RedisManager>(config, io_threads.io);
    manager->initialize();
    REQUIRE(manager->wait_connected(10s));
  }

  RedisServer server;
  IoThreads io_threads;
  std::unique_ptr<redis::RedisManager> manager;
};

// Counts the connections redis-server has from clients named `name`.
int connections_named(const RedisServer& server, const std::string& name) {
  const auto list = server.command({"CLIENT", "LIST"});
  int count = 0;
  for (std::size_t at = list.find("name=" + name + " "); at != std::string::npos;
       at = list.find("name=" + name + " ", at + 1))
    ++count;
  return count;
}

// One caller: INCR its own counter `rounds` times, checking each reply is the count so far.
awaitable<void> count_up(redis::RedisManager& r, int id, int rounds, std::atomic<int>& wrong, std::atomic<int>& done) {
  const auto name = "counter:" + std::to_string(id);
  for (int i = 1; i <= rounds; ++i) {
    const auto value = co_await r.incr(name);
    if (value != i) ++wrong;
  }
  ++done;
}

}  // namespace

TEST_CASE("on the caller's io_context: commands, a pipeline, a script, BLPOP and pub/sub") {
  SharedIoFixture f(1);
  auto& r = *f.manager;
  CHECK(&r.io_context() == &f.io_threads.io);

  CHECK(r.run_sync(r.set("k", "v")));
  CHECK(r.run_sync(r.get("k")) == "v");
  redis::Batch batch;
  batch.push({"INCR", r.key("n")}).push({"INCR", r.key("n")});
  const auto replies = r.run_sync(r.pipeline(batch));
  REQUIRE(replies.size() == 2);
  CHECK(replies[1].reply.integer == 2);
  const redis::Script twice("return tonumber(ARGV[1]) * 2");
  CHECK(r.run_sync(r.eval(twice, {}, {"21"})).reply.integer == 42);

  CHECK(r.run_sync(r.rpush("jobs", {"a"})) == 1);
  const auto popped = r.run_sync(r.blpop({"jobs"}, 1s));
  REQUIRE(popped);
  CHECK(popped->second == "a");

  ReceivedMessages heard;
  r.subscribe("news", heard.handler());
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));
  CHECK(r.run_sync(r.publish("news", "hello")) == 1);
  CHECK(wait_until([&] { return heard.all() == std::vector<std::string>{"news:hello"}; }, 10s));
}

TEST_CASE("on an io_context run by two threads, 100 concurrent callers each get their own replies") {
  SharedIoFixture f(2);
  auto& manager = f.manager;
  std::atomic<int> wrong{0};
  std::atomic<int> done{0};
  constexpr int callers = 100;
  for (int id = 0; id < callers; ++id)
    asio::co_spawn(f.io_threads.io, count_up(*manager, id, 50, wrong, done), asio::detached);
  REQUIRE(wait_until([&] { return done == callers; }, 30s));
  CHECK(wrong == 0);
  CHECK(manager->stats().commands >= callers * 50);
}

TEST_CASE("on the caller's io_context, run_sync is refused on a thread that runs it and works elsewhere") {
  SharedIoFixture f(1);
  auto& manager = f.manager;
  std::promise<std::string> refused;
  asio::post(f.io_threads.io, [&] {
    try {
      manager->run_sync(manager->ping());
      refused.set_value("no error");
    } catch (const std::logic_error& e) {
      refused.set_value(e.what());
    }
  });
  CHECK_THAT(refused.get_future().get(), Catch::Contains("would deadlock"));
  CHECK(manager->run_sync(manager->ping()));
}

TEST_CASE("on the caller's io_context, Redis killed then restarted: fails at once, then serves and hears again") {
  SharedIoFixture f(2);
  auto& r = *f.manager;
  ReceivedMessages heard;
  r.subscribe("news", heard.handler());
  REQUIRE(wait_until([&] { return r.subscriptions_active(); }, 10s));

  f.server.kill9();
  REQUIRE(wait_until([&] { return !r.is_connected(); }, 10s));
  CHECK_FALSE(r.run_sync(r.set("k", "v")));  // the circuit is open: an answer, not a wait
  CHECK(r.stats().unavailable >= 1);

  f.server.restart();
  REQUIRE(wait_until([&] { return r.is_connected() && r.subscriptions_active(); }, 20s));
  CHECK(r.run_sync(r.set("k", "v")));
  CHECK(r.run_sync(r.publish("news", "back")) == 1);
  CHECK(wait_until([&] { return heard.size() == 1; }, 10s));
}

TEST_CASE("a manager on the caller's io_context destroyed while it runs: its connections close, nothing is left") {
  SharedIoFixture f(2, "shared-io-goes");
  auto& manager = f.manager;
  manager->subscribe("news", [](const std::string&, const std::string&) {});
  REQUIRE(wait_until([&] { return manager->subscriptions_active(); }, 10s));
  CHECK(connections_named(f.server, "shared-io-goes") == manager->config().max_connections + 1);  // pool + subscriber
  auto view = manager->scoped("tenant:1:");
  CHECK(view.run_sync(view.set("k", "v")));

  // The handles go while the io_context keeps running on two threads: the stops run after them.
  { auto gone = std::move(view); }
  manager.reset();
  CHECK(wait_until([&] { return connections_named(f.server, "shared-io-goes") == 0; }, 10s));
}

// LeakSanitizer is the judge here: a connection that held itself through its queued handshake
// outlived everything once no stop() ran to fail that handshake.
TEST_CASE("a manager destroyed mid-handshake, its io_context never run again: nothing is left behind") {
  // A server that accepts and listens but never answers, so the handshake stays queued.
  asio::io_context mute_io;
  asio::ip::tcp::acceptor mute(mute_io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket peer(mute_io);
  std::array<char, 256> heard{};
  std::size_t heard_bytes = 0;
  mute.async_accept(peer, [&](boost::system::error_code accepted) {
    if (accepted) return;
    peer.async_read_some(asio::buffer(heard), [&](boost::system::error_code, std::size_t size) { heard_bytes = size; });
  });

  auto config = redis_config_for(mute.local_endpoint().port());
  config.max_connections = 1;
  auto io = std::make_unique<asio::io_context>();
  auto manager = std::make_unique<redis::RedisManager>(config, *io);
  manager->initialize();
  REQUIRE(wait_until([&] {
    io->poll();
    mute_io.poll();
    return heard_bytes > 0;  // the handshake was written: it waits in the connection's queue
  }, 10s));
  CHECK_FALSE(manager->is_connected());

  manager.reset();  // its stops are posted to an io_context that will never run them
  io.reset();
}

TEST_CASE("seed 001's await initialize(): awaited on the manager's own io thread, it connects without blocking it") {
  RedisServer server;
  server.start();
  IoThreads threads(1);  // one thread: a blocking wait on it would wait for itself
  redis::RedisManager r(redis_config_for(server.port()), threads.io);
  auto connect = [&r]() -> awaitable<bool> { co_return co_await r.initialize(asio::use_awaitable); };
  CHECK(asio::co_spawn(threads.io, connect(), asio::use_future).get());
  CHECK(r.is_connected());
  auto blocking = [&r]() -> awaitable<bool> {
    try {
      r.initialize();  // the blocking one, on the io thread: refused, never a hang
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  };
  CHECK(asio::co_spawn(threads.io, blocking(), asio::use_future).get());
}

TEST_CASE("initialize() on a live manager leaves its connections and the commands in flight alone") {
  RedisServer server;
  server.start();
  redis::RedisManager r(redis_config_for(server.port()));
  REQUIRE(r.initialize());
  REQUIRE(r.wait_connected(10s));
  const auto before = r.stats();
  // Commands in flight while initialize() runs again: every one answered, none "unavailable".
  auto writing = [&r]() -> awaitable<int> {
    int stored = 0;
    for (int i = 0; i < 2000; ++i) stored += co_await r.set("k" + std::to_string(i), "v") ? 1 : 0;
    co_return stored;
  };
  auto writes = asio::co_spawn(r.io_context(), writing(), asio::use_future);
  CHECK(r.initialize());
  CHECK(writes.get() == 2000);
  CHECK(r.stats().connection_failures == before.connection_failures);
  CHECK(r.stats().reconnects == before.reconnects);
  CHECK(r.stats().unavailable == before.unavailable);
  auto config = r.config();
  config.key_prefix = "other:";
  r.configure(config);  // new settings: the next initialize() starts again with them
  CHECK(r.initialize());
  CHECK(r.key("k") == "other:k");
}

TEST_CASE("configure() while commands run on other threads: they keep the settings in effect until the next initialize()") {
  RedisServer server;
  server.start();
  IoThreads threads(2);
  redis::RedisManager r(redis_config_for(server.port()), threads.io);
  REQUIRE(r.initialize());
  // Commands reading the prefix and the default TTL on the io threads while this thread configures:
  // under ThreadSanitizer, configure() writing the settings they read would be a data race.
  std::atomic<bool> stop{false};
  std::atomic<int> stored{0};
  auto writing = [&r, &stop, &stored]() -> awaitable<void> {
    for (int i = 0; !stop.load(); ++i) {
      const bool ok = co_await r.set("w" + std::to_string(i % 50), "v");
      if (ok) ++stored;
    }
  };
  auto writer = asio::co_spawn(threads.io, writing(), asio::use_future);
  REQUIRE(wait_until([&] { return stored.load() > 10; }, 10s));
  auto next = r.config();
  next.key_prefix = "next:";
  next.default_ttl_s = 300;
  r.configure(next);
  const int at_configure = stored.load();
  REQUIRE(wait_until([&] { return stored.load() > at_configure + 10; }, 10s));
  stop = true;
  writer.get();

  CHECK(r.key("k") == "test:k");  // not before the next start
  CHECK(r.config().key_prefix == "test:");
  CHECK(r.run_sync(r.command({"KEYS", "next:*"})).reply.elements.empty());
  CHECK(r.run_sync(r.ttl("w0")) == -1);  // nor the new default TTL

  REQUIRE(r.initialize());  // the next start: the new settings, all of them
  CHECK(r.key("k") == "next:k");
  REQUIRE(r.run_sync(r.set("after", "v")));
  CHECK(r.run_sync(r.command({"EXISTS", "next:after"})).reply.integer == 1);
  CHECK(r.run_sync(r.ttl("after")) > 200);
}
