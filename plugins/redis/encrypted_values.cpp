// RedisManager::set_encrypted / get_encrypted: values sealed by the Keyring (AES-256-GCM) before they
// leave the process, authenticated together with the key name they are stored under.
#include <spdlog/spdlog.h>

#include "plugins/redis/engine.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

awaitable<bool> RedisManager::set_encrypted(std::string_view name, std::string_view value,
                                            std::optional<std::chrono::seconds> ttl) {
  auto envelope = engine_->keyring.seal(value, name);
  if (!envelope) {
    spdlog::error("redis: set_encrypted '{}' not stored: {}", name,
                  engine_->keyring.empty() ? "no encryption key is configured (REDIS_ENCRYPTION_KEY)" : "encryption failed");
    co_return false;
  }
  SetOptions options;
  options.ex = ttl;
  co_return co_await set(name, *envelope, options);
}

awaitable<Decrypted> RedisManager::get_encrypted(std::string_view name) {
  const auto stored = co_await get(name);
  if (!stored) co_return Decrypted{};
  auto opened = engine_->keyring.open(*stored, name);
  if (!opened.value) {
    count_cache(&CacheStats::decode_failures);
    spdlog::warn("redis: get_encrypted '{}': {}", name, opened.error);
  }
  co_return opened;
}

}  // namespace routemq::redis
