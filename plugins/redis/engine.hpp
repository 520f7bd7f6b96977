#pragma once
// What a RedisManager and all its scoped views share: the settings, the connections and the executor
// they run on, the client's statistics, and what recipes share (recipe_states). Internal to plugins/redis/.
//
// The executor is a strand, either over an io_context and thread of the engine's own, or over the
// caller's io_context: then coroutines on that io_context reach Redis and resume without crossing a
// thread.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <typeindex>
#include <utility>
#include <vector>

#include <boost/asio/strand.hpp>

#include "core/asio.hpp"
#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/connection/command_sink.hpp"
#include "plugins/redis/connection/connection_settings.hpp"
#include "plugins/redis/connection/unavailable.hpp"
#include "plugins/redis/protocol/request_queue.hpp"
#include "plugins/redis/protocol/result.hpp"
#include "plugins/redis/redis_config.hpp"
#include "plugins/redis/cache_stats.hpp"
#include "plugins/redis/fallback_cache.hpp"

namespace routemq::redis {

class Subscriber;
class MasterLocator;

struct Engine;

// A caller suspended on a command: the request's Completion::Target, its executor, and the result to resume it
// with. Completing it hands it to the engine, which resumes it on its executor.
struct Resumption : Completion::Target {
  Resumption(Engine& owner, asio::any_io_executor on, std::uint32_t value_reads = 0)
      : engine(owner), executor(std::move(on)), reads(value_reads) {}
  void complete(std::shared_ptr<Target>&& self, Result&& outcome) final;
  virtual void resume() = 0;  // on `executor`, once, with `result`

  Engine& engine;
  asio::any_io_executor executor;
  Result result;
  std::uint32_t reads = 0;                   // values it reads, counted as hits or misses from its reply
  bool in_command_statistics = false;        // in the commands count and latency (BLPOP's wait is not)
  std::optional<Clock::time_point> sent_at;  // set on the commands sampled for latency
};

struct Engine {
  explicit Engine(RedisConfig settings);              // on an io thread of its own
  Engine(RedisConfig settings, asio::io_context& io);  // on a strand of `io`, which must outlive it
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Resumes a caller on its executor. On the strand, resumptions are gathered and posted once per
  // executor per burst of replies: one wake-up of the app's thread for many commands.
  void deliver(std::shared_ptr<Resumption> caller);
  void flush_deliveries();
  // Where a command can go now: the pool, when some connection of it is ready; null while nothing is
  // connected (Redis disabled, stopped, or down): the one place that decides "unavailable".
  CommandSink* ready_pool() const {
    auto* sink = pool.load(std::memory_order_acquire);
    return sink && sink->any_ready() ? sink : nullptr;
  }
  // A call refused at once: nothing connected (or Redis disabled). Counted.
  Result refuse_unavailable() const;

  // The settings in effect: what every command reads (the key prefix, the default TTL), read without
  // a lock from any thread. configure() only leaves new settings for start(), which puts them in
  // effect; a command running meanwhile keeps the old ones whole, never half of each.
  const RedisConfig& settings() const { return *in_effect.load(std::memory_order_acquire); }
  void set_next_settings(RedisConfig next);
  // start()'s first step: the settings configure() left, if any, now in effect; false when none.
  bool put_next_settings_in_effect();
  // configure() bumps it; start() notes the one it started with: initialize() leaves connections
  // started with the current settings alone.
  std::atomic<std::uint64_t> settings_generation{1};
  std::atomic<std::uint64_t> started_generation{0};
  ConnectionSettings connection_settings;  // built from settings() by start()
  std::shared_ptr<ClientStats> shared_stats = std::make_shared<ClientStats>();  // connections hold it too
  ClientStats& stats = *shared_stats;
  Unavailable unavailable{shared_stats};
  CacheStats cache_totals;  // every view's cache counters together, for /metrics
  std::unique_ptr<asio::io_context> own_io;  // null on the caller's io_context
  asio::io_context& io;
  asio::strand<asio::io_context::executor_type> strand;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;  // own io only
  std::thread thread;                                                             // own io only
  // Where commands go (one Redis's pool, or a cluster's), read without a lock on every command.
  // initialize()/disconnect() swap it; retired pools stay alive (stopped) until the engine goes, so
  // a reader never sees a dead one.
  std::atomic<CommandSink*> pool{nullptr};
  std::vector<std::unique_ptr<CommandSink>> pools;
  std::shared_ptr<Subscriber> subscriber;
  // redis.fallback_cache as start() found it: null when off (max_entries 0). Read without a lock on
  // every get and set; replaced ones stay alive (unused) until the engine goes, as pools do.
  std::atomic<FallbackCache*> fallback{nullptr};
  std::vector<std::unique_ptr<FallbackCache>> fallbacks;
  FallbackCache* local_fallback() const { return fallback.load(std::memory_order_acquire); }
  void use_fallback_cache(const RedisConfig::FallbackCache& limits);  // by start()
  // With Sentinel: the locator the connections follow, read without a lock; retired ones stay alive
  // (stopped) until the engine goes, as pools do.
  std::atomic<MasterLocator*> master_locator{nullptr};
  std::vector<std::shared_ptr<MasterLocator>> master_locators;
  std::vector<std::shared_ptr<Resumption>> deliveries;  // on the strand only
  // One state per recipe type, of types the engine does not know (RedisManager::recipe_state).
  std::mutex recipe_states_mutex;
  std::map<std::type_index, std::shared_ptr<void>> recipe_states;

 private:
  // Every version of the settings stays alive until the engine goes, as retired pools do, so a
  // reference from settings() never dangles; configure() is rare, the copies few.
  std::atomic<const RedisConfig*> in_effect{nullptr};
  std::mutex settings_mutex;
  std::vector<std::unique_ptr<const RedisConfig>> settings_versions;  // under settings_mutex
  std::optional<RedisConfig> next_settings;                           // under settings_mutex

  Engine(RedisConfig settings, std::unique_ptr<asio::io_context> owned, asio::io_context* caller_io);
};

}  // namespace routemq::redis
