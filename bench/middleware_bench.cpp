// bench_middleware: decisions per second of each Redis middleware at high concurrency, beside the plain
// GET rate of the same RedisManager against the same redis-server in the same run.
//
//   build/bin/bench_middleware --port 6379 [--seconds 3] [--concurrency 1000] [--connections 4]
//
// Each middleware is built by the registry from YAML options, exactly as the app builds it, and run
// through a Chain in front of a handler that does nothing (session: one incr, so there is a save).
// N coroutines on one io_context (the app's executor) each handle messages for their own device, one
// after the other: what N devices publishing at once cost. A decision is one script call (rate_limit)
// or two (dedupe: claim + done; session: load + save; lock: acquire + release), so the ratio to GET
// says what each decision costs in Redis round trips.
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/flags.hpp"
#include "bench/measurement.hpp"
#include "core/asio.hpp"
#include "core/config/environment.hpp"
#include "core/handling/context.hpp"
#include "core/handling/middleware_registry.hpp"
#include "middleware/register_all.hpp"
#include "middleware/session.hpp"
#include "plugins/redis/recipes/session_store.hpp"
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
  double seconds = 3;
  int connections = 4;
  std::vector<int> concurrency{1000};
};

// One middleware as a user would enable it; `options` is its YAML.
struct Scenario {
  std::string name;
  std::string middleware;
  std::string options;
  int redis_calls;  // script calls per message, for the report
};

const std::vector<Scenario> scenarios{
    {"rate_limit_gcra", "rate_limit", "{key: \"{device_id}\", rate: 1000000, period: 1}", 1},
    {"rate_limit_sliding", "rate_limit",
     "{key: \"{device_id}\", rate: 1000000, period: 1, strategy: sliding_window}", 1},
    {"dedupe", "dedupe", "{id: \"{payload.msg_id}\", window: 60}", 2},
    {"session", "session", "{key: \"{device_id}\", ttl: 60}", 2},
    {"lock", "lock", "{key: \"{device_id}\", ttl: 10}", 2},
};

const char* usage =
    "usage: bench_middleware --port N [--seconds S] [--connections N] [--concurrency 1000,...]\n"
    "Measures each Redis middleware's decisions per second and RedisManager GET on 127.0.0.1:N.\n";

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value (or is unknown)");
    const std::string value = argv[++i];
    if (flag == "--port") options.port = static_cast<int>(parse_number(flag, value));
    else if (flag == "--seconds") options.seconds = static_cast<double>(parse_number(flag, value));
    else if (flag == "--connections") options.connections = static_cast<int>(parse_number(flag, value));
    else if (flag == "--concurrency") {
      options.concurrency.clear();
      std::stringstream stream(value);
      for (std::string item; std::getline(stream, item, ',');)
        options.concurrency.push_back(static_cast<int>(parse_number(flag, item)));
    } else {
      throw std::invalid_argument("unknown option " + flag);
    }
  }
  if (options.port == 0) throw std::invalid_argument("--port is required");
  return options;
}

// Everything a message needs to run through a chain: the services (with the manager) and the chain.
struct Pipeline {
  routemq::Services services;
  std::unique_ptr<routemq::Chain> chain;
};

awaitable<void> count_in_session(routemq::Context& ctx) {
  if (auto* session = ctx.get(routemq::middleware::current_session)) (*session)->incr("messages");
  co_return;
}

Pipeline build_pipeline(const Scenario& scenario, std::shared_ptr<redis::RedisManager> manager) {
  Pipeline pipeline;
  pipeline.services.provide(std::move(manager));
  routemq::MiddlewareRegistry registry;
  routemq::middleware::register_all(registry);
  const routemq::ConfigNode options(YAML::Load(scenario.options), scenario.middleware, {"bench", 0, 0});
  const routemq::MiddlewareSpec spec{scenario.middleware, options};
  const routemq::Environment environment;
  auto middleware = registry.create(spec, environment, pipeline.services, scenario.name);
  pipeline.chain = std::make_unique<routemq::Chain>(std::vector{std::move(middleware)},
                                                    routemq::Handler(count_in_session));
  return pipeline;
}

struct Window {
  Clock::time_point measure_from;
  Clock::time_point deadline;
};

struct Tally {
  std::uint64_t operations = 0;
  std::uint64_t errors = 0;
  std::vector<std::uint32_t> latencies_ns;

  // Counts an operation started at `started` if it started inside the window (not in the warm-up).
  void record(Clock::time_point started, bool ok, const Window& window) {
    if (started < window.measure_from) return;
    if (!ok) {
      ++errors;
      return;
    }
    ++operations;
    latencies_ns.push_back(routemq::bench::clamp_ns(Clock::now() - started));
  }
};

Window window_after_warm_up(double seconds) {
  const auto from = Clock::now() + 300ms;
  return {from, from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds))};
}

// One device publishing message after message through the chain.
awaitable<void> device(const Pipeline& pipeline, int id, Window window, Tally& tally) {
  routemq::Params params;
  params.add("device_id", "d" + std::to_string(id));
  const std::string topic = "devices/d" + std::to_string(id) + "/telemetry";
  for (std::uint64_t n = 0; Clock::now() < window.deadline; ++n) {
    routemq::InboundMessage message;
    message.topic = topic;
    message.payload = "{\"msg_id\":\"" + std::to_string(id) + "-" + std::to_string(n) + "\",\"value\":1}";
    routemq::Context ctx(std::move(message), params, "bench", [](routemq::OutboundMessage) {}, pipeline.services);
    const auto started = Clock::now();
    bool ok = true;
    try {
      co_await pipeline.chain->run(ctx);
    } catch (const std::exception& error) {
      if (tally.errors == 0) std::fprintf(stderr, "bench_middleware: %s\n", error.what());
      ok = false;
    }
    tally.record(started, ok, window);
  }
}

awaitable<void> reader(redis::RedisManager& manager, int id, Window window, Tally& tally) {
  const std::string key = "bench:get:" + std::to_string(id);
  co_await manager.set(key, "v");
  while (Clock::now() < window.deadline) {
    const auto started = Clock::now();
    const bool ok = (co_await manager.get(key)).has_value();
    tally.record(started, ok, window);
  }
}

// Runs `concurrency` copies of `worker` on one io_context until the window closes.
template <class Worker>
Measurement measure(std::string name, int concurrency, double seconds, Worker worker) {
  std::vector<Tally> tallies(static_cast<std::size_t>(concurrency));
  const auto window = window_after_warm_up(seconds);
  asio::io_context io;
  for (int i = 0; i < concurrency; ++i)
    asio::co_spawn(io, worker(i, window, tallies[static_cast<std::size_t>(i)]), [](std::exception_ptr error) {
      if (error) std::rethrow_exception(error);
    });
  io.run();
  Measurement m{std::move(name), concurrency, 0, 0, Clock::now() - window.measure_from, {}};
  for (auto& tally : tallies) {
    m.operations += tally.operations;
    m.errors += tally.errors;
    m.latencies_ns.insert(m.latencies_ns.end(), tally.latencies_ns.begin(), tally.latencies_ns.end());
  }
  std::fprintf(stderr, "bench_middleware: %s c=%d done (%llu ops, %llu errors)\n", m.name.c_str(), concurrency,
               static_cast<unsigned long long>(m.operations), static_cast<unsigned long long>(m.errors));
  return m;
}

// Each decision's rate against plain GET at the same concurrency, and per Redis call it makes.
void print_ratios(const std::vector<Measurement>& measurements, const std::vector<routemq::bench::Summary>& summaries) {
  double get_rate = 0;
  for (std::size_t i = 0; i < measurements.size(); ++i) {
    if (measurements[i].name == "plain_get") {
      get_rate = summaries[i].ops_per_second;
      continue;
    }
    for (const auto& scenario : scenarios) {
      if (scenario.name != measurements[i].name || get_rate == 0) continue;
      const double ratio = summaries[i].ops_per_second / get_rate;
      std::printf("RATIO name=%s c=%d vs_get=%.3f redis_calls=%d per_call_vs_get=%.3f\n", scenario.name.c_str(),
                  measurements[i].concurrency, ratio, scenario.redis_calls, ratio * scenario.redis_calls);
    }
  }
}

redis::RedisConfig manager_config(const Options& options) {
  redis::RedisConfig config;
  config.enabled = true;
  config.host = "127.0.0.1";
  config.port = options.port;
  config.max_connections = options.connections;
  config.client_name = "bench_middleware";
  return config;
}

int run(const Options& options) {
  std::printf("bench_middleware: redis-server 127.0.0.1:%d, %.0f s per measurement, %d RedisManager "
              "connection(s), %u hardware threads\n",
              options.port, options.seconds, options.connections, std::thread::hardware_concurrency());
  std::printf("LOADAVG at=start %s\n", routemq::bench::load_average().c_str());
  std::fflush(stdout);
  auto manager = std::make_shared<redis::RedisManager>(manager_config(options));
  manager->initialize();
  if (!manager->wait_connected(10s)) throw std::runtime_error("RedisManager did not connect within 10 s");

  std::vector<Measurement> measurements;
  for (int concurrency : options.concurrency) {
    measurements.push_back(measure("plain_get", concurrency, options.seconds, [&](int id, Window w, Tally& t) {
      return reader(*manager, id, w, t);
    }));
    for (const auto& scenario : scenarios) {
      const auto pipeline = build_pipeline(scenario, manager);
      measurements.push_back(measure(scenario.name, concurrency, options.seconds, [&](int id, Window w, Tally& t) {
        return device(pipeline, id, w, t);
      }));
    }
  }

  std::printf("\n");
  routemq::bench::print_table_header();
  std::vector<routemq::bench::Summary> summaries;
  for (auto& m : measurements) summaries.push_back(routemq::bench::summarize(m));
  for (std::size_t i = 0; i < measurements.size(); ++i) routemq::bench::print_row(measurements[i], summaries[i]);
  std::printf("\n");
  for (std::size_t i = 0; i < measurements.size(); ++i) routemq::bench::print_result_line(measurements[i], summaries[i]);
  print_ratios(measurements, summaries);
  std::printf("LOADAVG at=end %s\n", routemq::bench::load_average().c_str());
  for (const auto& m : measurements)
    if (m.errors > 0 || m.operations == 0) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  try {
    return run(parse_options(argc, argv));
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "bench_middleware: %s\n%s", error.what(), usage);
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_middleware: %s\n", error.what());
    return 1;
  }
}
