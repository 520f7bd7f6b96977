#include "plugins/redis/recipes/encrypted_values.hpp"

#include <spdlog/spdlog.h>

#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

EncryptedValues::EncryptedValues(RedisManager& redis) : redis_(redis.share()), keyring_(redis.keyring()) {}

awaitable<bool> EncryptedValues::set(std::string_view name, std::string_view value,
                                     std::optional<std::chrono::seconds> ttl) {
  const auto& keyring = *keyring_;
  auto envelope = keyring.seal(value, redis_->key(name));
  if (!envelope) {
    spdlog::error("redis: encrypted value '{}' not stored: {}", name,
                  keyring.empty() ? "no encryption key is configured (REDIS_ENCRYPTION_KEY)" : "encryption failed");
    co_return false;
  }
  SetOptions options;
  options.ex = ttl;
  co_return co_await redis_->run(cmd::set(redis_->key_space(), name, *envelope, options, redis_->default_ttl()));
}

awaitable<Decrypted> EncryptedValues::get(std::string_view name) {
  const auto stored = co_await redis_->run(cmd::get(redis_->key_space(), name));  // this recipe opens it
  if (!stored) co_return Decrypted{};
  auto opened = keyring_->open(*stored, redis_->key(name));
  if (!opened.value) {
    redis_->count_cache(&CacheStats::decode_failures);
    spdlog::warn("redis: encrypted value '{}': {}", name, opened.error);
  }
  co_return opened;
}

bool EncryptedValues::has_key() const { return !keyring_->empty(); }

}  // namespace routemq::redis
