#include "plugins/redis/recipes/codec_values.hpp"

#include <spdlog/spdlog.h>

#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

CodecValues::CodecValues(const RedisManager& redis) : redis_(redis.share()) {}

awaitable<bool> CodecValues::set_in(std::shared_ptr<RedisManager> redis, std::string name, nlohmann::json value,
                                    std::optional<std::chrono::seconds> ttl, Tags tags) {
  auto encoded = redis->encode_stored(name, value);
  if (!encoded.bytes) {
    spdlog::warn("redis: value '{}' not stored: {}", name, encoded.error);
    co_return false;
  }
  if (!tags.empty()) co_return co_await store_tagged(*redis, name, std::move(*encoded.bytes), ttl ? ttl : redis->default_ttl(), tags);
  SetOptions options;
  options.ex = ttl;
  co_return co_await redis->set(name, *encoded.bytes, options);
}

awaitable<Decoded> CodecValues::get_in(std::shared_ptr<RedisManager> redis, std::string name) {
  const auto stored = co_await redis->get(name);
  if (!stored) co_return Decoded{};
  co_return redis->decode_stored(name, *stored);  // a failure is counted and logged there
}

}  // namespace routemq::redis
