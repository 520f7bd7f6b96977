#pragma once
// What a RedisManager and all its scoped views share: the settings, the connections and the io thread
// they run on, the client's statistics, the loads remember() has running. Internal to plugins/redis/.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/asio.hpp"
#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/keyring.hpp"
#include "plugins/redis/redis_config.hpp"
#include "plugins/redis/remember.hpp"

namespace routemq::redis {

class ConnectionPool;
class Subscriber;

struct Engine {
  explicit Engine(RedisConfig settings);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Resumes a caller on its executor. On the io thread, resumptions are gathered and posted once
  // per executor per burst of replies: one wake-up of the app's thread for many commands.
  void deliver(asio::any_io_executor executor, std::function<void()> resume);
  void flush_deliveries();

  RedisConfig config;
  Keyring keyring;
  ClientStats stats;
  CacheStats cache_totals;  // every view's cache counters together, for /metrics
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  // The pool commands use, read without a lock on every command. initialize()/disconnect() swap it;
  // retired pools stay alive (stopped) until the engine goes, so a reader never sees a dead one.
  std::atomic<ConnectionPool*> pool{nullptr};
  std::vector<std::unique_ptr<ConnectionPool>> pools;
  std::unique_ptr<Subscriber> subscriber;
  std::vector<std::pair<asio::any_io_executor, std::function<void()>>> deliveries;  // io thread only
  // remember(): the loads running now, by full key name, so views of the same scope share them.
  std::mutex flights_mutex;
  std::map<std::string, std::shared_ptr<Flight>> flights;
};

}  // namespace routemq::redis
