// bench_redis: what RedisManager's GET and SET cost, against a bare synchronous hiredis loop.
//
//   build/bin/bench_redis --port 6379 [--seconds 3] [--key-size 16] [--value-size 3]
//                         [--connections 4] [--concurrency 1,10,100,1000] [--modes own,shared]
//                         [--tls-ca ca.crt] [--cluster] [--operations set,get]
//
// For each concurrency, N coroutines on one io_context (the app's executor, one thread) each loop
// `co_await redis.get(key)` (or set) until a deadline, with the manager in two ways:
//   own     its connections on an io thread of its own (RedisManager(config), the service's singleton):
//           every command hops to that thread and back (RESULT names routemq_get, routemq_set);
//   shared  its connections on a strand of the callers' io_context (RedisManager(config, io)): no
//           command crosses a thread (routemq_shared_get, routemq_shared_set).
// Every operation is counted; latency is taken with steady_clock around the co_await (what a
// handler sees) of one operation in eight, each worker's first of every eight (see manager_worker).
// The peer is one hiredis connection doing redisCommand in a loop: what a bare hiredis user gets.
// --tls-ca: the manager connects over TLS (verifying the server against that CA) to --port, a
// tls-port; the hiredis loop is left out (it speaks plaintext only): redis-benchmark --tls is the peer.
// --cluster: --port is a node of a Redis Cluster; the manager learns the others and measures once
// connected to every master; the hiredis loop is left out: redis-benchmark --cluster is the peer.
// --operations: measure only SET or only GET (to profile one; GETs still find their keys written).
//
// Defaults match redis-benchmark's (16-byte keys "key:000000000042", 3-byte values) so the figures
// compare with it; scripts/bench.sh runs both and prints the ratios.
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <future>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/flags.hpp"
#include "bench/measurement.hpp"
#include "core/asio.hpp"
#include "plugins/redis/cluster/cluster_settings.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace {

using namespace std::chrono_literals;
using routemq::awaitable;
using routemq::bench::Clock;
using routemq::bench::Measurement;
using routemq::bench::parse_number;
namespace asio = routemq::asio;
namespace redis = routemq::redis;

struct Options {
  int port = 0;
  double seconds = 3;           // per measurement, after the warm-up
  std::size_t key_size = 16;    // redis-benchmark's "key:__rand_int__" is 16 bytes
  std::size_t value_size = 3;   // redis-benchmark's default -d 3
  int connections = 4;          // RedisConfig's default max_connections: what a user gets
  std::vector<int> concurrency{1, 10, 100, 1000};
  bool peer = true;                 // --no-peer: skip the hiredis loop (profiling RedisManager alone)
  bool own = true;                  // --modes own,shared: which ways to run the manager (see above)
  bool shared = true;
  std::string tls_ca;               // --tls-ca: TLS to the server, trusting this CA
  bool cluster = false;             // --cluster: --port is a seed node of a Redis Cluster
  bool sets = true;                 // --operations set,get: which commands to measure (to profile one)
  bool gets = true;
};

enum class Operation { get, set };

const char* usage =
    "usage: bench_redis --port N [--seconds S] [--key-size B] [--value-size B] [--connections N]\n"
    "                   [--concurrency 1,10,100,1000] [--modes own,shared] [--no-peer] [--tls-ca FILE] [--cluster]\n"
    "                   [--operations set,get]\n"
    "Measures RedisManager GET/SET and a synchronous hiredis loop against redis-server on 127.0.0.1:N.\n";

std::vector<int> parse_list(const std::string& flag, const std::string& text) {
  std::vector<int> values;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) values.push_back(static_cast<int>(parse_number(flag, item)));
  if (values.empty()) throw std::invalid_argument(flag + " expects a comma-separated list");
  return values;
}

// A comma-separated choice of one or both of two words ("own,shared"): sets the flag of each named.
void parse_pair(const std::string& flag, const std::string& text, const char* first, bool& first_named,
                const char* second, bool& second_named) {
  first_named = second_named = false;
  std::stringstream stream(text);
  for (std::string word; std::getline(stream, word, ',');) {
    if (word == first) first_named = true;
    else if (word == second) second_named = true;
    else
      throw std::invalid_argument(flag + " expects " + first + ", " + second + " or both (" + first + "," + second +
                                  "), not '" + word + "'");
  }
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (flag == "--no-peer") {
      options.peer = false;
      continue;
    }
    if (flag == "--cluster") {
      options.cluster = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value (or is unknown)");
    const std::string value = argv[++i];
    if (flag == "--port") options.port = static_cast<int>(parse_number(flag, value));
    else if (flag == "--seconds") options.seconds = static_cast<double>(parse_number(flag, value));
    else if (flag == "--key-size") options.key_size = static_cast<std::size_t>(parse_number(flag, value));
    else if (flag == "--value-size") options.value_size = static_cast<std::size_t>(parse_number(flag, value));
    else if (flag == "--connections") options.connections = static_cast<int>(parse_number(flag, value));
    else if (flag == "--concurrency") options.concurrency = parse_list(flag, value);
    else if (flag == "--modes") parse_pair(flag, value, "own", options.own, "shared", options.shared);
    else if (flag == "--operations") parse_pair(flag, value, "set", options.sets, "get", options.gets);
    else if (flag == "--tls-ca") options.tls_ca = value;
    else throw std::invalid_argument("unknown option " + flag);
  }
  if (options.port == 0) throw std::invalid_argument("--port is required");
  if (!options.tls_ca.empty() || options.cluster) options.peer = false;  // hiredis here: one plaintext server
  return options;
}

// "key:000000000042" at 16 bytes: the index zero-padded to the requested size (longer if it must be).
std::string make_key(std::size_t index, std::size_t size) {
  std::string digits = std::to_string(index);
  const std::string prefix = "key:";
  if (prefix.size() + digits.size() < size) digits.insert(0, size - prefix.size() - digits.size(), '0');
  return prefix + digits;
}

std::vector<std::string> make_keys(std::size_t count, std::size_t size) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < count; ++i) keys.push_back(make_key(i, size));
  return keys;
}

// When a round counts: operations started in [measure_from, deadline); the ones before warm up the
// connections, the allocator and redis-server.
struct Window {
  Clock::time_point measure_from;
  Clock::time_point deadline;

  static Window after_warm_up(double seconds) {
    const auto warm_up = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds / 5));
    const auto from = Clock::now() + std::min<Clock::duration>(warm_up, 500ms);
    return {from, from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds))};
  }
};

// A measurement's figures. The RedisManager's workers share one: they all run on one thread, and
// their samples go one after the other into one array instead of into a thousand (a cache line
// touched per command that no handler would touch, as redis-benchmark records into one histogram).
struct Tally {
  std::uint64_t operations = 0;
  std::uint64_t errors = 0;
  Clock::time_point last_completion{};
  std::vector<std::uint32_t> latencies_ns;

  void record(Clock::time_point started, Clock::time_point finished, bool ok, const Window& window) {
    if (started < window.measure_from) return;
    last_completion = std::max(last_completion, finished);
    if (!ok) {
      ++errors;
      return;
    }
    ++operations;
    latencies_ns.push_back(routemq::bench::clamp_ns(finished - started));
  }

  // Operations that ran between two clock reads, counted without a latency of their own.
  void record_untimed(Clock::time_point started, Clock::time_point finished, std::uint64_t ok, std::uint64_t failed,
                      const Window& window) {
    if (started < window.measure_from) return;
    last_completion = std::max(last_completion, finished);
    operations += ok;
    errors += failed;
  }
};

Measurement merge(std::string name, int concurrency, std::vector<Tally>& tallies, const Window& window) {
  Measurement m{std::move(name), concurrency, 0, 0, {}, {}};
  Clock::time_point last = window.measure_from;
  for (auto& tally : tallies) {
    m.operations += tally.operations;
    m.errors += tally.errors;
    last = std::max(last, tally.last_completion);
    m.latencies_ns.insert(m.latencies_ns.end(), tally.latencies_ns.begin(), tally.latencies_ns.end());
    tally.latencies_ns = {};
  }
  m.elapsed = last - window.measure_from;
  return m;
}

// ---- RedisManager

// One caller: the loop a handler would run, one command at a time. The clock is read twice per
// eight commands: around the first (its latency, a sample of every command's) and after the eighth
// (the block's end, the next one's start). Read around every command, the clock cost 4% of the
// client's thread on this VM (perf: __vdso_clock_gettime), a cost redis-benchmark does not pay: it
// reads it once per pipeline of replies.
constexpr int operations_per_clock_block = 8;

awaitable<void> manager_worker(redis::RedisManager& manager, Operation operation, const std::string& key,
                               const std::string& value, Window window, Tally& tally) {
  for (auto started = Clock::now(); started < window.deadline;) {
    std::uint64_t untimed_ok = 0;
    for (int i = 0; i < operations_per_clock_block; ++i) {
      bool ok = false;
      if (operation == Operation::get)
        ok = (co_await manager.get(key)).has_value();  // the keys were written first: a miss means Redis was unavailable
      else
        ok = co_await manager.set(key, value);
      if (i == 0)
        tally.record(started, Clock::now(), ok, window);
      else
        untimed_ok += ok ? 1 : 0;
    }
    const auto finished = Clock::now();
    tally.record_untimed(started, finished, untimed_ok, operations_per_clock_block - 1 - untimed_ok, window);
    started = finished;
  }
}

// Exceptions from a worker end the benchmark instead of vanishing (asio::detached would drop them).
void rethrow(std::exception_ptr error) {
  if (error) std::rethrow_exception(error);
}

// Own mode: the callers on their own io_context and thread, the manager on its io thread (the
// service's shape: handlers on the app's executor, two thread hops per command).
void run_workers_on_own_thread(redis::RedisManager& manager, Operation operation, const std::vector<std::string>& keys,
                               std::size_t workers, const std::string& value, const Window& window, Tally& tally) {
  asio::io_context io;
  for (std::size_t i = 0; i < workers; ++i)
    asio::co_spawn(io, manager_worker(manager, operation, keys[i], value, window, tally), rethrow);
  io.run();
}

// Shared mode: the callers on the io_context the manager runs on (run by another thread, which
// keeps running it between measurements for the manager's timers).
void run_workers_on_manager_io(redis::RedisManager& manager, Operation operation, const std::vector<std::string>& keys,
                               std::size_t workers, const std::string& value, const Window& window, Tally& tally) {
  std::promise<void> all_done;
  std::size_t running = workers;  // only touched on the io_context's one thread, as `tally` is
  std::exception_ptr first_error;
  auto on_exit = [&](std::exception_ptr error) {
    if (error && !first_error) first_error = error;
    if (--running == 0) all_done.set_value();
  };
  for (std::size_t i = 0; i < workers; ++i)
    asio::co_spawn(manager.io_context(), manager_worker(manager, operation, keys[i], value, window, tally), on_exit);
  all_done.get_future().wait();
  if (first_error) std::rethrow_exception(first_error);
}

enum class Mode { own, shared };

Measurement measure_manager(redis::RedisManager& manager, Mode mode, Operation operation, int concurrency,
                            const std::vector<std::string>& keys, const std::string& value, const Options& options) {
  std::vector<Tally> tallies(1);  // one for every worker: see Tally
  const auto workers = static_cast<std::size_t>(concurrency);
  const auto window = Window::after_warm_up(options.seconds);
  if (mode == Mode::shared)
    run_workers_on_manager_io(manager, operation, keys, workers, value, window, tallies[0]);
  else
    run_workers_on_own_thread(manager, operation, keys, workers, value, window, tallies[0]);
  std::string name = mode == Mode::shared ? "routemq_shared_" : "routemq_";
  name += operation == Operation::get ? "get" : "set";
  return merge(std::move(name), concurrency, tallies, window);
}

awaitable<void> write_keys(redis::RedisManager& manager, const std::vector<std::string>& keys, const std::string& value,
                           bool& all_written) {
  all_written = true;
  for (const auto& key : keys) all_written = (co_await manager.set(key, value)) && all_written;
}

// GETs must hit, or they measure misses: every key a worker will read exists beforehand.
void prefill(redis::RedisManager& manager, const std::vector<std::string>& keys, const std::string& value) {
  asio::io_context io;
  bool all_written = false;
  asio::co_spawn(io, write_keys(manager, keys, value, all_written), rethrow);
  io.run();
  if (!all_written) throw std::runtime_error("could not write the benchmark keys through RedisManager");
}

redis::RedisConfig manager_config(const Options& options) {
  redis::RedisConfig config;
  config.enabled = true;
  config.host = "127.0.0.1";
  config.port = options.port;
  config.max_connections = options.connections;
  config.key_prefix = "";  // the same keys, of the same size, as the hiredis loop and redis-benchmark
  config.client_name = "bench_redis";
  if (options.cluster) config.cluster.nodes = {"127.0.0.1:" + std::to_string(options.port)};
  config.tls.enabled = !options.tls_ca.empty();
  config.tls.ca_file = options.tls_ca;
  return config;
}

// ---- bare hiredis: one connection, one command, wait for its reply, repeat

struct HiredisFree {
  void operator()(redisContext* context) const { redisFree(context); }
};
using HiredisContext = std::unique_ptr<redisContext, HiredisFree>;

HiredisContext connect_hiredis(int port) {
  HiredisContext context(redisConnect("127.0.0.1", port));
  if (!context || context->err)
    throw std::runtime_error(std::string("hiredis cannot connect: ") + (context ? context->errstr : "out of memory"));
  return context;
}

bool hiredis_command(redisContext* context, Operation operation, const std::string& key, const std::string& value) {
  void* raw = operation == Operation::get
                  ? redisCommand(context, "GET %b", key.data(), key.size())
                  : redisCommand(context, "SET %b %b", key.data(), key.size(), value.data(), value.size());
  if (!raw) throw std::runtime_error(std::string("hiredis: ") + context->errstr);  // the connection is gone
  auto* reply = static_cast<redisReply*>(raw);
  const bool ok = operation == Operation::get ? reply->type == REDIS_REPLY_STRING : reply->type == REDIS_REPLY_STATUS;
  freeReplyObject(reply);
  return ok;
}

Measurement measure_hiredis(Operation operation, const std::string& key, const std::string& value,
                            const Options& options) {
  auto context = connect_hiredis(options.port);
  std::vector<Tally> tally(1);
  const auto window = Window::after_warm_up(options.seconds);
  while (Clock::now() < window.deadline) {
    const auto started = Clock::now();
    const bool ok = hiredis_command(context.get(), operation, key, value);
    tally[0].record(started, Clock::now(), ok, window);
  }
  return merge(operation == Operation::get ? "hiredis_sync_get" : "hiredis_sync_set", 1, tally, window);
}

// ---- report

void report(std::vector<Measurement>& measurements) {
  std::printf("\n");
  routemq::bench::print_table_header();
  std::vector<routemq::bench::Summary> summaries;
  for (auto& m : measurements) summaries.push_back(routemq::bench::summarize(m));
  for (std::size_t i = 0; i < measurements.size(); ++i) routemq::bench::print_row(measurements[i], summaries[i]);
  std::printf("\n");
  for (std::size_t i = 0; i < measurements.size(); ++i)
    routemq::bench::print_result_line(measurements[i], summaries[i]);
}

// Progress on stderr so stdout stays the table and the RESULT lines.
void progress(const Measurement& m) {
  std::fprintf(stderr, "bench_redis: %s c=%d done (%llu ops, %llu errors)\n", m.name.c_str(), m.concurrency,
               static_cast<unsigned long long>(m.operations), static_cast<unsigned long long>(m.errors));
}

// Every concurrency, SET then GET (GETs find the keys written), on one manager.
// A cluster: every master connected, or the commands for some slots would fail while measuring. The
// connections are shared out among the masters, at least one each.
bool wait_every_master(const redis::RedisManager& manager, int connections) {
  for (const auto deadline = Clock::now() + 10s; Clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
    const auto masters = manager.stats().cluster_masters;
    const auto each = redis::connections_per_master(static_cast<std::size_t>(connections), masters.size());
    if (!masters.empty() && std::all_of(masters.begin(), masters.end(), [&](const auto& master) {
          return master.connections_ready == each;
        }))
      return true;
  }
  return false;
}

void measure_modes(redis::RedisManager& manager, Mode mode, const std::vector<std::string>& keys,
                   const std::string& value, const Options& options, std::vector<Measurement>& measurements) {
  manager.initialize();
  if (!manager.wait_connected(10s)) throw std::runtime_error("RedisManager did not connect within 10 s");
  if (options.cluster && !wait_every_master(manager, options.connections))
    throw std::runtime_error("RedisManager did not connect to every cluster master within 10 s");
  prefill(manager, keys, value);
  for (int concurrency : options.concurrency) {
    for (auto operation : {Operation::set, Operation::get}) {
      if (!(operation == Operation::set ? options.sets : options.gets)) continue;
      measurements.push_back(measure_manager(manager, mode, operation, concurrency, keys, value, options));
      progress(measurements.back());
    }
  }
}

int run(const Options& options) {
  std::printf("bench_redis: redis-server 127.0.0.1:%d, key %zu B, value %zu B, %.0f s per measurement, "
              "%d RedisManager connection(s), %u hardware threads\n",
              options.port, options.key_size, options.value_size, options.seconds, options.connections,
              std::thread::hardware_concurrency());
  std::printf("LOADAVG at=start %s\n", routemq::bench::load_average().c_str());
  std::fflush(stdout);  // before the progress lines on stderr

  const int most = *std::max_element(options.concurrency.begin(), options.concurrency.end());
  const auto keys = make_keys(static_cast<std::size_t>(most), options.key_size);
  const std::string value(options.value_size, 'x');
  std::vector<Measurement> measurements;

  if (options.own) {
    redis::RedisManager manager(manager_config(options));
    measure_modes(manager, Mode::own, keys, value, options, measurements);
  }
  if (options.shared) {
    asio::io_context callers_io;
    auto work = asio::make_work_guard(callers_io);
    std::thread runner([&] { callers_io.run(); });
    {
      redis::RedisManager manager(manager_config(options), callers_io);
      measure_modes(manager, Mode::shared, keys, value, options, measurements);
    }
    work.reset();  // the manager's stops cancel its timers: run() returns once they ran
    runner.join();
  }
  for (auto operation : {Operation::set, Operation::get}) {
    if (!options.peer) break;
    measurements.push_back(measure_hiredis(operation, keys.front(), value, options));
    progress(measurements.back());
  }

  report(measurements);
  std::printf("LOADAVG at=end %s\n", routemq::bench::load_average().c_str());
  for (const auto& m : measurements)
    if (m.errors > 0 || m.operations == 0) return 1;  // figures with failures in them are not figures
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // the manager's "connecting" info line is noise here
  try {
    return run(parse_options(argc, argv));
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "bench_redis: %s\n%s", error.what(), usage);
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_redis: %s\n", error.what());
    return 1;
  }
}
