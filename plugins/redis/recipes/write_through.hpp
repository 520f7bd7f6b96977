#pragma once
// Write-through beside the manager: the store first, then the cache, in that order. The rule on
// failure: the store is the truth. Store write failed -> the cache key is invalidated (the store may
// or may not have the value; the next read loads whatever it has) and the error returned. Cache write
// failed -> the key is invalidated; if Redis is away even for that, the old cached value can be served
// until its TTL runs out: keep TTLs of write-through keys short. Write-behind: write_behind.hpp.
//
//   redis::WriteThrough users(redis::manager(ctx));
//   auto put = co_await users.put("user:" + id, profile, 300s, [&](const json& v) -> awaitable<void> {
//     co_await database.save(id, v);                      // throws on failure
//   });
//   if (!put.stored) ... put.error ...
#include <chrono>
#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/asio.hpp"

namespace routemq::redis {

class RedisManager;

// The outcome of a put(): the store first, then the cache.
struct PutResult {
  bool stored = false;  // the store writer succeeded
  bool cached = false;  // the cache holds the new value
  std::string error;    // why the store write failed, or what happened to the cache
};
// Writes a value to the system of record; throws on failure.
using StoreWriter = std::function<awaitable<void>(const nlohmann::json& value)>;

class WriteThrough {
 public:
  // The manager (or view) must outlive the calls. Values go through its codec (CodecValues).
  explicit WriteThrough(const RedisManager& redis);

  // With tags, the cached value is tagged (Invalidation::invalidate_tag).
  awaitable<PutResult> put(std::string_view key, nlohmann::json value, std::optional<std::chrono::seconds> ttl,
                           StoreWriter write_store, std::vector<std::string> tags = {});

 private:
  // UNLINK of the cached value; false when Redis did not answer (absent or not, it is gone when true).
  awaitable<bool> drop_cached(std::string_view name);

  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
};

}  // namespace routemq::redis
