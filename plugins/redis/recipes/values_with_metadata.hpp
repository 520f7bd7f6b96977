#pragma once
// A value stored with metadata beside it: one hash {value, metadata} under the key, so both share one
// TTL, are replaced together (one MULTI/EXEC), can never be read apart, and disappear together
// (Invalidation::invalidate(key) removes both). The value goes through the manager's (or view's)
// codec, and is encrypted when values are; metadata is readable JSON whatever the codec (keep
// secrets in the value). A recipe beside the manager.
//
//   redis::ValuesWithMetadata pages(redis::manager(ctx));
//   const nlohmann::json metadata{{"etag", etag}, {"source", "cms"}};   // named: not braced in a co_await (GCC 12)
//   co_await pages.set("page:" + id, body, metadata, 600s);
//   auto page = co_await pages.get("page:" + id);        // {value, metadata, error}
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/asio.hpp"

namespace routemq::redis {

class RedisManager;

struct WithMetadata {
  std::optional<nlohmann::json> value;
  nlohmann::json metadata;  // null when there is none
  std::string error;        // the stored value or metadata could not be decoded
};

class ValuesWithMetadata {
 public:
  // The manager (or view) must outlive the calls.
  explicit ValuesWithMetadata(const RedisManager& redis);

  // False when not stored: Redis away, or a value the codec cannot encode.
  awaitable<bool> set(std::string_view key, const nlohmann::json& value, const nlohmann::json& metadata,
                      std::optional<std::chrono::seconds> ttl = std::nullopt);
  awaitable<WithMetadata> get(std::string_view key);

 private:
  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
};

}  // namespace routemq::redis
