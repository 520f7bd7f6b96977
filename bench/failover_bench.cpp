// bench_failover: the failover window as a service on the RedisManager sees it, behind Sentinel or
// on a Redis Cluster.
//
//   build/bin/bench_failover --sentinels 127.0.0.1:26379,... --master-name mymaster --kill-pid PID
//                            [--writers 200] [--before 2]
//   build/bin/bench_failover --cluster 127.0.0.1:7000 --victim-port 7001 --kill-pid PID ...
//
// `writers` coroutines SET their own key in a loop through a manager that found the master through
// the Sentinels (or, on a cluster, keys in one slot the victim master serves). After `before`
// seconds the master (PID) is killed with SIGKILL; the window ends with the first write that
// succeeds after the writes started failing. Prints, in wall-clock milliseconds
// (so scripts/bench.sh can set them beside the "+switch-master" line of Sentinel's log):
//
//   RESULT name=failover writers=200 kill_ms=... first_write_ms=... refused=N unknown=N before=N after=N
//
// refused: calls answered at once while degraded (never sent); unknown: sent, answer lost with the
// master (applied or not); neither is ever replayed. before/after: writes that succeeded.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "bench/flags.hpp"
#include "core/asio.hpp"
#include "plugins/redis/cluster/cluster_replies.hpp"
#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace {

using namespace std::chrono_literals;
using routemq::awaitable;
namespace asio = routemq::asio;
namespace redis = routemq::redis;

struct Options {
  std::string sentinels;
  std::string master_name;
  std::string cluster;   // a seed node: the cluster mode
  int victim_port = 0;   // the cluster master whose slot the writers' keys share
  pid_t kill_pid = 0;
  int writers = 200;
  int before_s = 2;
};

const char* const usage =
    "usage: bench_failover --sentinels host:port,... --master-name NAME --kill-pid PID [--writers 200] [--before 2]\n"
    "       bench_failover --cluster host:port --victim-port PORT --kill-pid PID [--writers 200] [--before 2]\n";

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value (or is unknown)");
    const std::string value = argv[i + 1];
    if (flag == "--sentinels") options.sentinels = value;
    else if (flag == "--master-name") options.master_name = value;
    else if (flag == "--cluster") options.cluster = value;
    else if (flag == "--victim-port") options.victim_port = static_cast<int>(routemq::bench::parse_number(flag, value));
    else if (flag == "--kill-pid") options.kill_pid = static_cast<pid_t>(routemq::bench::parse_number(flag, value));
    else if (flag == "--writers") options.writers = static_cast<int>(routemq::bench::parse_number(flag, value));
    else if (flag == "--before") options.before_s = static_cast<int>(routemq::bench::parse_number(flag, value));
    else throw std::invalid_argument("unknown option " + flag);
  }
  const bool sentinel = !options.sentinels.empty() && !options.master_name.empty();
  const bool cluster = !options.cluster.empty() && options.victim_port != 0;
  if (sentinel == cluster || options.kill_pid == 0)
    throw std::invalid_argument("--sentinels and --master-name, or --cluster and --victim-port, and --kill-pid are required");
  return options;
}

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Window {
  std::atomic<bool> stop{false};
  std::atomic<long long> killed_ms{0};        // 0 until the kill
  std::atomic<bool> failing{false};           // a write failed after the kill
  std::atomic<long long> first_write_ms{0};   // the first success after that
  std::atomic<long> refused{0}, unknown{0}, before{0}, after{0};
  std::atomic<int> running{0};
};

awaitable<void> write_forever(redis::RedisManager& manager, Window& window, std::string key) {
  ++window.running;
  while (!window.stop) {
    std::vector<std::string> set{"SET", manager.key(key), "v"};
    const auto result = co_await manager.command(std::move(set));
    const bool after_kill = window.killed_ms != 0;
    if (result.succeeded()) {
      (after_kill ? window.after : window.before)++;
      long long none = 0;
      if (window.failing) window.first_write_ms.compare_exchange_strong(none, now_ms());
      continue;
    }
    if (after_kill) window.failing = true;
    if (window.first_write_ms == 0) (result.unavailable() ? window.refused : window.unknown)++;
    if (result.unavailable()) {  // degraded: answered at once; do not spin
      asio::steady_timer pause(co_await asio::this_coro::executor, 1ms);
      co_await pause.async_wait(asio::use_awaitable);
    }
  }
  --window.running;
}

// On a cluster: a hash tag whose slot the victim serves, so that every writer waits on its failover.
std::string tag_served_by(redis::RedisManager& manager, int victim_port) {
  const auto slots = manager.run_sync(manager.command({"CLUSTER", "SLOTS"}));
  std::string why;
  const auto map = redis::SlotMap::from_cluster_slots(slots.reply, {"127.0.0.1", 0}, why);
  if (!map) throw std::runtime_error("CLUSTER SLOTS: " + why);
  for (int n = 0; n < 1'000'000; ++n) {
    const auto tag = "{failover-" + std::to_string(n) + "}";
    const auto* master = map->master_of(redis::hash_slot(manager.key(tag)));
    if (master && master->port == victim_port) return tag;
  }
  throw std::runtime_error("no slot of the victim found");
}

int run(const Options& options) {
  const bool cluster = !options.cluster.empty();
  redis::RedisConfig config = redis::read_redis_config(
      routemq::ConfigNode(),
      routemq::Environment(cluster ? std::map<std::string, std::string>{{"ENABLE_REDIS", "true"},
                                                                        {"REDIS_CLUSTER_NODES", options.cluster},
                                                                        {"REDIS_SOCKET_TIMEOUT", "1"}}
                                   : std::map<std::string, std::string>{{"ENABLE_REDIS", "true"},
                                                                        {"REDIS_SENTINELS", options.sentinels},
                                                                        {"REDIS_SENTINEL_MASTER", options.master_name},
                                                                        {"REDIS_SOCKET_TIMEOUT", "1"}}));
  redis::RedisManager manager(config);
  if (!manager.initialize() && !manager.wait_connected(10s)) throw std::runtime_error("no master found");
  const auto first_master = cluster ? "127.0.0.1:" + std::to_string(options.victim_port) : manager.stats().master;
  const auto prefix = cluster ? tag_served_by(manager, options.victim_port) + ":" : std::string("failover:");

  Window window;
  asio::io_context io(1);
  for (int i = 0; i < options.writers; ++i)
    asio::co_spawn(io, write_forever(manager, window, prefix + std::to_string(i)), asio::detached);
  std::thread callers([&] { io.run(); });
  std::this_thread::sleep_for(std::chrono::seconds(options.before_s));
  window.killed_ms = now_ms();
  if (::kill(options.kill_pid, SIGKILL) != 0) throw std::runtime_error("cannot kill the master's PID");
  // Bounded: Sentinel's failover takes seconds; a minute means it did not happen.
  for (int waited = 0; window.first_write_ms == 0 && waited < 60000; waited += 5) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(500ms);  // writes go on on the new master for a moment
  window.stop = true;
  for (int waited = 0; window.running > 0 && waited < 10000; waited += 5) std::this_thread::sleep_for(5ms);
  io.stop();
  callers.join();
  if (window.first_write_ms == 0) throw std::runtime_error("no write succeeded within a minute of the kill");

  std::printf("RESULT name=failover writers=%d kill_ms=%lld first_write_ms=%lld refused=%ld unknown=%ld before=%ld "
              "after=%ld from=%s to=%s\n",
              options.writers, window.killed_ms.load(), window.first_write_ms.load(), window.refused.load(),
              window.unknown.load(), window.before.load(), window.after.load(), first_master.c_str(),
              cluster ? "its-promoted-replica" : manager.stats().master.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::err);  // the failover's warnings are the expected story here
  try {
    return run(parse_options(argc, argv));
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "bench_failover: %s\n%s", error.what(), usage);
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_failover: %s\n", error.what());
    return 1;
  }
}
