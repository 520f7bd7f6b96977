// RedisManager::set_encrypted / get_encrypted: values sealed by the Keyring (AES-256-GCM) before they
// leave the process, authenticated together with the full key they are stored under (prefix and
// scope included), so a value copied to another key, or to another tenant's view, does not open.
#include <spdlog/spdlog.h>

#include "plugins/redis/engine.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

awaitable<bool> RedisManager::set_encrypted(std::string_view name, std::string_view value,
                                            std::optional<std::chrono::seconds> ttl) {
  auto envelope = engine_->keyring.seal(value, key(name));
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
  auto opened = engine_->keyring.open(*stored, key(name));
  if (!opened.value) {
    count_cache(&CacheStats::decode_failures);
    spdlog::warn("redis: get_encrypted '{}': {}", name, opened.error);
  }
  co_return opened;
}

}  // namespace routemq::redis
