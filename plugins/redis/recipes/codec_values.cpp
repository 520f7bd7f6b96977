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
  // The bytes are sealed already when values are encrypted: the command, not the sealing set().
  co_return co_await redis->run(cmd::set(redis->key_space(), name, *encoded.bytes, options, redis->default_ttl()));
}

awaitable<Decoded> CodecValues::get_in(std::shared_ptr<RedisManager> redis, std::string name) {
  const auto stored = co_await redis->run(cmd::get(redis->key_space(), name));  // opened by decode_stored
  if (!stored) co_return Decoded{};
  co_return redis->decode_stored(name, *stored);  // a failure is counted and logged there
}

}  // namespace routemq::redis
