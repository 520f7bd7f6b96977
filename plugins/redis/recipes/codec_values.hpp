#pragma once
// JSON values stored through the manager's (or view's) codec (codec.hpp: json, msgpack or raw), so a
// view can keep its values compact without its callers knowing, and encrypted when the manager or
// view encrypts values (redis.encrypt_values, ScopeOptions::encrypt_values). A recipe beside the
// manager. (RedisManager::set_json/get_json store JSON text whatever the codec, never encrypted.)
//
//   redis::CodecValues values(redis::manager(ctx).scoped("stats:", {.codec = redis::codec::msgpack()}));
//   co_await values.set("device:" + id, reading, 1h);   // false: not stored (Redis away, or not encodable)
//   const std::vector<std::string> tags{"fleet:7"};      // named: GCC 12 rejects a braced list in a co_await
//   co_await values.set("device:" + id, reading, 1h, tags);   // tagged: Invalidation::invalidate_tag
//   auto stored = co_await values.get("device:" + id);   // {value, error}: bytes the codec cannot decode
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/asio.hpp"
#include "plugins/redis/codec.hpp"
#include "plugins/redis/recipes/tag_index.hpp"

namespace routemq::redis {

class RedisManager;

class CodecValues {
 public:
  // Holds a handle on the manager (or view); a call holds it too, so a temporary recipe is fine.
  explicit CodecValues(const RedisManager& redis);

  // False when not stored: Redis away, or a value the codec cannot encode (logged). Without a TTL,
  // the view's or manager's default TTL applies. With tags, the value and its tags are written together.
  awaitable<bool> set(std::string_view key, const nlohmann::json& value,
                      std::optional<std::chrono::seconds> ttl = std::nullopt, Tags tags = {}) {
    return set_in(redis_, std::string(key), value, ttl, std::move(tags));
  }
  // Nothing when missing or unavailable; bytes the codec cannot decode are reported in `error`,
  // counted in cache_stats().decode_failures and logged.
  awaitable<Decoded> get(std::string_view key) { return get_in(redis_, std::string(key)); }

 private:
  static awaitable<bool> set_in(std::shared_ptr<RedisManager> redis, std::string name, nlohmann::json value,
                                std::optional<std::chrono::seconds> ttl, Tags tags);
  static awaitable<Decoded> get_in(std::shared_ptr<RedisManager> redis, std::string name);
  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
};

}  // namespace routemq::redis
