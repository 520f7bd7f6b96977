#include "plugins/redis/recipes/values_with_metadata.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/pipeline.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

ValuesWithMetadata::ValuesWithMetadata(const RedisManager& redis) : redis_(redis.share()) {}
namespace {

// The hash fields of a value with metadata.
constexpr const char* kValueField = "value";
constexpr const char* kMetadataField = "metadata";

}  // namespace

// One hash, replaced as a whole in one transaction: the value and its metadata can never be seen
// apart, and they expire together.
awaitable<bool> ValuesWithMetadata::set(std::string_view name, const nlohmann::json& value, const nlohmann::json& metadata,
                                        std::optional<std::chrono::seconds> ttl) {
  auto encoded = redis_->encode_stored(name, value);
  auto metadata_text = codec::json().encode(metadata);
  if (!encoded.bytes || !metadata_text.bytes) {
    spdlog::warn("redis: value with metadata '{}' not stored: {}", name,
                 encoded.bytes ? "metadata: " + metadata_text.error : encoded.error);
    co_return false;
  }
  Pipeline transaction(*redis_);
  transaction.del(name);
  transaction.hset(name, {{kValueField, std::move(*encoded.bytes)}, {kMetadataField, std::move(*metadata_text.bytes)}});
  if (const auto expiry = ttl ? ttl : redis_->default_ttl()) transaction.expire(name, *expiry);
  co_return co_await transaction.run_atomically();
}

awaitable<WithMetadata> ValuesWithMetadata::get(std::string_view name) {
  const std::vector<std::string> fields{kValueField, kMetadataField};
  const auto result = co_await redis_->run(cmd::hmget(redis_->key_space(), name, fields).as_result());
  WithMetadata out;
  if (!result.ok()) co_return out;  // unavailable: nothing, as for get()
  if (result.reply.is_error() || !result.reply.is_array() || result.reply.elements.size() != 2) {
    out.error = fmt::format("'{}' is not a value with metadata: {}", name, result.error_text());
    co_return out;
  }
  const auto& stored_value = result.reply.elements[0];
  const auto& stored_metadata = result.reply.elements[1];
  redis_->count_read(stored_value.type == Reply::Type::string);
  if (stored_value.type != Reply::Type::string) co_return out;
  auto decoded = redis_->decode_stored(name, stored_value.text);
  out.value = std::move(decoded.value);
  out.error = std::move(decoded.error);
  if (stored_metadata.type == Reply::Type::string) {
    auto metadata = codec::json().decode(stored_metadata.text);
    if (metadata.value) {
      out.metadata = std::move(*metadata.value);
    } else if (out.error.empty()) {
      redis_->count_cache(&CacheStats::decode_failures);
      out.error = fmt::format("the metadata of '{}' is not valid JSON", name);
    }
  }
  co_return out;
}

}  // namespace routemq::redis
