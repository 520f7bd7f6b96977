#include "plugins/redis/redis_cli.hpp"

#include <chrono>
#include <cstdlib>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {
namespace {

using namespace std::chrono_literals;

// A manager configured like the service's and connected; throws CLI::RuntimeError(1) with a message on
// stderr when Redis is disabled or does not answer. The commands do not run the app, so the app's own
// manager (on the app's io_context) would never be served: this one has an io thread of its own.
std::unique_ptr<RedisManager> connected_manager(App& app) {
  const auto* service = app.services().find<RedisManager>();
  auto manager = std::make_unique<RedisManager>(service ? service->config() : redis_config_from_environment());
  const auto& config = manager->config();
  if (!config.enabled) {
    fmt::print(stderr, "Redis is disabled (set ENABLE_REDIS=true or redis.enabled: true)\n");
    throw CLI::RuntimeError(1);
  }
  manager->initialize();
  const auto deadline = std::chrono::duration<double>(config.connect_timeout_s) + 1s;
  if (!manager->wait_connected(std::chrono::duration_cast<std::chrono::milliseconds>(deadline))) {
    const auto why = manager->stats().last_failure;
    fmt::print(stderr, "Redis at {} (db {}) did not answer within {:.1f} s{}{}\n", config.address(), config.db,
               deadline.count(), why.empty() ? "" : ": ", why);
    throw CLI::RuntimeError(1);
  }
  return manager;
}

// With a cluster: every master and whether we reach it.
void print_cluster_masters(const RedisStatsSnapshot& client) {
  for (const auto& master : client.cluster_masters)
    fmt::print("  master {}: {}\n", master.address,
               master.connections_ready > 0 ? fmt::format("{} connection(s) ready", master.connections_ready)
                                            : std::string("unreachable (its slots are unavailable)"));
}

// With redis.read_from a replica: the replicas read from, and where reads went.
void print_replicas(const RedisStatsSnapshot& client) {
  for (const auto& replica : client.replicas)
    fmt::print("  replica {}: {}\n", replica.address,
               replica.connections_ready > 0 ? fmt::format("{} connection(s) ready", replica.connections_ready)
                                             : std::string("unreachable (its reads go to its master)"));
  if (!client.replicas.empty() || client.replica_reads + client.replica_fallbacks > 0)
    fmt::print("client: {} reads from replicas, {} fell back to the master\n", client.replica_reads,
               client.replica_fallbacks);
}

void ping(App& app) {
  auto connected = connected_manager(app);
  auto& manager = *connected;
  const auto started = std::chrono::steady_clock::now();
  if (!manager.run_sync(manager.ping())) {
    fmt::print(stderr, "PING failed\n");
    throw CLI::RuntimeError(1);
  }
  const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  const auto& config = manager.config();
  fmt::print("PONG from {} db {} in {:.2f} ms\n", config.address(), config.db, elapsed.count());
  print_cluster_masters(manager.stats());
}

void stats(App& app) {
  auto connected = connected_manager(app);
  auto& manager = *connected;
  const auto view = manager.run_sync(manager.server_view());
  const auto client = manager.stats();
  fmt::print("client: state {}, {} connection(s) ready, {} commands, {} errors, {} timeouts, {} reconnects\n",
             client.state, client.connections_ready, client.commands, client.errors, client.timeouts,
             client.reconnects);
  print_cluster_masters(client);
  print_replicas(client);
  if (!client.cluster_masters.empty()) {
    fmt::print("server: the figures below are summed over {} master(s)\n", view.servers);
    for (const auto& master : view.unanswered) fmt::print("  master {} did not answer: not counted\n", master);
  }
  fmt::print("server: {} keys in db {}, {} clients connected\n", view.dbsize, manager.config().db, view.connected_clients);
  // Bytes, not the "_human" fields: those are one server's, and on a cluster the bytes are the sum.
  for (const char* field : {"used_memory", "used_memory_peak", "maxmemory"})
    if (auto it = view.memory.find(field); it != view.memory.end())
      fmt::print("  {}: {:.1f} MiB\n", field, static_cast<double>(std::atoll(it->second.c_str())) / (1024.0 * 1024.0));
  if (auto it = view.memory.find("maxmemory_policy"); it != view.memory.end()) fmt::print("  maxmemory_policy: {}\n", it->second);
  fmt::print("  keys in all dbs: {}, commands processed: {}, keyspace hit rate (every client): {:.1f}%\n",
             view.total_keys, view.commands_processed, view.server_hit_rate * 100);
  fmt::print("key types under '{}' (a SCAN sample of {}):\n", manager.config().key_prefix, view.sampled);
  for (const auto& [type, count] : view.types) fmt::print("  {}: {}\n", type, count);
}

void keys(App& app, const std::string& pattern, std::size_t limit) {
  auto connected = connected_manager(app);
  auto& manager = *connected;
  const auto found = manager.run_sync(manager.keys(pattern, limit));
  for (const auto& key : found.names) fmt::print("{}\n", key);
  fmt::print(stderr, "{} key(s){}\n", found.names.size(),
             found.limit_reached ? fmt::format(": the limit of {}; more match (use -n for more)", limit)
             : found.interrupted ? std::string(": Redis stopped answering before the scan finished")
                                 : std::string());
}

}  // namespace

void add_redis_commands(CLI::App& cli, const CommandHooks& hooks) {
  auto* redis = cli.add_subcommand("redis", "Operate on the service's Redis (uses its config)");
  redis->require_subcommand(1);
  auto load_app = hooks.load_app;
  hooks.with_config(redis->add_subcommand("ping", "PING Redis and print the round trip"))->callback([load_app] {
    ping(load_app());
  });
  hooks.with_config(redis->add_subcommand("stats", "Client state, server memory, key count and key types"))
      ->callback([load_app] { stats(load_app()); });
  auto* keys_command = hooks.with_config(redis->add_subcommand("keys", "Keys under the prefix matching a glob pattern"));
  auto pattern = std::make_shared<std::string>();
  auto limit = std::make_shared<std::size_t>(1000);
  keys_command->add_option("pattern", *pattern, "glob, e.g. 'device:*'")->required();
  keys_command->add_option("-n,--limit", *limit, "at most this many")->capture_default_str();
  keys_command->callback([load_app, pattern, limit] { keys(load_app(), *pattern, *limit); });
}

}  // namespace routemq::redis
