#pragma once
// JSON values stored through the manager's (or view's) codec (codec.hpp: json, msgpack or raw), so a
// view can keep its values compact without its callers knowing. A recipe beside the manager.
// (RedisManager::set_json/get_json store JSON text whatever the codec.)
//
//   redis::CodecValues values(redis::manager(ctx).scoped("stats:", {.codec = redis::codec::msgpack()}));
//   co_await values.set("device:" + id, reading, 1h);   // false: not stored (Redis away, or not encodable)
//   auto stored = co_await values.get("device:" + id);   // {value, error}: bytes the codec cannot decode
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/asio.hpp"
#include "plugins/redis/codec.hpp"

namespace routemq::redis {

class RedisManager;

class CodecValues {
 public:
  // The manager (or view) must outlive the calls; the recipe itself need not (a temporary is fine).
  explicit CodecValues(RedisManager& redis) : redis_(redis) {}

  // False when not stored: Redis away, or a value the codec cannot encode (logged).
  awaitable<bool> set(std::string_view key, const nlohmann::json& value,
                      std::optional<std::chrono::seconds> ttl = std::nullopt) {
    return set_in(redis_, std::string(key), value, ttl);
  }
  // Nothing when missing or unavailable; bytes the codec cannot decode are reported in `error`,
  // counted in cache_stats().decode_failures and logged.
  awaitable<Decoded> get(std::string_view key) { return get_in(redis_, std::string(key)); }

 private:
  static awaitable<bool> set_in(RedisManager& redis, std::string name, nlohmann::json value,
                                std::optional<std::chrono::seconds> ttl);
  static awaitable<Decoded> get_in(RedisManager& redis, std::string name);
  RedisManager& redis_;
};

}  // namespace routemq::redis
