#pragma once
// Write-behind: a value goes to the cache now and to the store later, in batches.
//
//   redis::WriteBehind behind(redis, app_executor, {.batch_size = 100, .interval = 200ms},
//       [&db](const std::vector<redis::PendingWrite>& batch) -> awaitable<void> { co_await db.save(batch); });
//   auto queued = co_await behind.put("device:42", state, 60s);  // queued.stored false: queue full
//   ...
//   co_await behind.drain();   // on shutdown: everything pending is written, then it stops
//
// - Loss window: writes accepted but not yet flushed live only in this process (at most max_pending
//   keys, normally those of the last `interval`): a crash loses them, though the cache has them.
// - A key put again before its flush is written once, with its last value (counted as coalesced).
// - Bounded: with max_pending keys waiting, put() refuses (stored false, nothing cached): write
//   through instead (RedisManager::put) or shed the write.
// - A batch the writer throws on is tried again after `interval`, up to max_attempts, then dropped:
//   counted and logged with its keys.
// - The writer runs on `executor`, one batch at a time. Destroying a WriteBehind that was not drained
//   loses what is pending (logged).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/asio.hpp"
#include "plugins/redis/recipes/write_through.hpp"  // PutResult
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

struct WriteBehindOptions {
  std::size_t max_pending = 10000;             // distinct keys waiting for the store
  std::size_t batch_size = 100;                // a full batch is written at once
  std::chrono::milliseconds interval{200};     // otherwise what is pending is written this often
  int max_attempts = 3;                        // writer failures before a batch is dropped
};

struct PendingWrite {
  std::string key;  // as given to put(), without any prefix
  nlohmann::json value;
};
using BatchWriter = std::function<awaitable<void>(const std::vector<PendingWrite>& batch)>;

struct WriteBehindStats {
  std::atomic<std::uint64_t> accepted{0}, refused{0}, coalesced{0}, written{0}, batches{0}, failures{0}, dropped{0};
};

struct WriteBehindState;

class WriteBehind {
 public:
  WriteBehind(const RedisManager& redis, asio::any_io_executor executor, WriteBehindOptions options,
              BatchWriter write_batch);
  ~WriteBehind();
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // Queues the write for the store, then caches the value (with the manager's or view's codec, and
  // tagged when given tags). stored: queued for the store; cached: the cache has the value.
  awaitable<PutResult> put(std::string_view key, nlohmann::json value,
                           std::optional<std::chrono::seconds> ttl = std::nullopt, std::vector<std::string> tags = {});
  // Writes everything pending (retries included) and stops; put() refuses from the call on.
  awaitable<void> drain();

  std::size_t pending() const;
  const WriteBehindStats& stats() const;

 private:
  std::shared_ptr<WriteBehindState> state_;  // shared with the flusher, which may outlive this by a step
};

}  // namespace routemq::redis
