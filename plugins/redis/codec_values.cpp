// RedisManager::set_value / get_value: values through the manager's or view's codec.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {
awaitable<bool> RedisManager::set_value(std::string_view name, const nlohmann::json& value,
                                        std::optional<std::chrono::seconds> ttl) {
  auto encoded = codec_->encode(value);
  if (!encoded.bytes) {
    spdlog::warn("redis: set_value '{}' not stored: the {} codec cannot encode it: {}", name, codec_->name,
                 encoded.error);
    co_return false;
  }
  SetOptions options;
  options.ex = ttl;
  co_return co_await set(name, *encoded.bytes, options);
}

Decoded RedisManager::decode_stored(std::string_view name, const std::string& bytes) {
  auto decoded = codec_->decode(bytes);
  if (!decoded.value) {
    count_cache(&CacheStats::decode_failures);
    decoded.error = fmt::format("the value of '{}' could not be decoded by the {} codec: {}", name, codec_->name,
                                decoded.error);
    spdlog::warn("redis: {}", decoded.error);
  }
  return decoded;
}

awaitable<Decoded> RedisManager::get_value(std::string_view name) {
  const auto stored = co_await get(name);
  if (!stored) co_return Decoded{};
  co_return decode_stored(name, *stored);
}

}  // namespace routemq::redis
