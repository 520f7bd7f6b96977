#pragma once
// Cache invalidation beside the manager: by key, by prefix, by glob pattern (SCAN + UNLINK in batches,
// never KEYS, which blocks the server for the whole keyspace) and by tag (a script, so nothing tagged
// survives). On a scoped view everything stays inside the view. Each count is the keys removed, 0
// when Redis is away.
//
//   redis::Invalidation cache(redis::manager(ctx));
//   const std::vector<std::string> tags{"products", "sale"};   // named: GCC 12 rejects a braced list in a co_await
//   co_await cache.set_tagged("product:1", value, 10min, tags);
//   co_await cache.tag("price:1", tags);                          // any existing key, of any type
//   co_await cache.invalidate_tag("sale");                        // every key stored with the tag
//
// Values of the other recipes take tags too: CodecValues::set, RememberOptions::tags, WriteThrough
// and WriteBehind put (tag_index.hpp).
//   co_await cache.invalidate_prefix("user:" + id + ":");         // glob characters in it are escaped
//   co_await cache.invalidate_pattern("user:" + redis::glob_escape(id) + ":*");
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/asio.hpp"

namespace routemq::redis {

class RedisManager;

class Invalidation {
 public:
  // The manager (or view) must outlive the calls.
  explicit Invalidation(const RedisManager& redis);

  awaitable<long long> invalidate(std::string_view key);
  awaitable<long long> invalidate_prefix(std::string_view prefix);   // every key starting with it
  awaitable<long long> invalidate_pattern(std::string_view pattern);  // a glob: escape user data
  // A string value stored with tags; invalidate_tag removes every key stored with that tag, atomically
  // on one Redis, so no tagged key is left behind (on a cluster too: tag_index.hpp says how). Tag sets live at "tag:<tag>" and expire no earlier than their keys.
  awaitable<bool> set_tagged(std::string_view key, std::string_view value, std::chrono::seconds ttl,
                             std::vector<std::string> tags);
  // Tags a key that exists (a hash, a list, a value set by any means); false when it does not.
  awaitable<bool> tag(std::string_view key, std::vector<std::string> tags);
  awaitable<long long> invalidate_tag(std::string_view tag);

 private:
  awaitable<long long> invalidate_tag_across_slots(std::string tag);

  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
};

}  // namespace routemq::redis
