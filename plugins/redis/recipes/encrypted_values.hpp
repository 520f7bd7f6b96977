#pragma once
// Values encrypted before they leave the process: AES-256-GCM under REDIS_ENCRYPTION_KEY (the
// manager's keyring, keyring.hpp), authenticated together with the full key they are stored under
// (prefix and view included), so a value copied to another key, or into another tenant's view, does
// not open. A recipe beside the manager (or a view).
//
//   redis::EncryptedValues vault(redis::manager(ctx));
//   co_await vault.set("card:" + id, number, 1h);       // false: no key configured, or Redis away
//   auto card = co_await vault.get("card:" + id);       // {value, error}: never plaintext on failure
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include "core/asio.hpp"
#include "plugins/redis/keyring.hpp"

namespace routemq::redis {

class RedisManager;

class EncryptedValues {
 public:
  // The manager (or view) must outlive the calls.
  explicit EncryptedValues(RedisManager& redis);

  awaitable<bool> set(std::string_view key, std::string_view value,
                      std::optional<std::chrono::seconds> ttl = std::nullopt);
  // `error` names tampering, a wrong or unknown key, or a value that is not encrypted.
  awaitable<Decrypted> get(std::string_view key);
  // Whether the manager has an encryption key (REDIS_ENCRYPTION_KEY / redis.encryption_key).
  bool has_key() const;

 private:
  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
  std::shared_ptr<const Keyring> keyring_;  // the manager's, kept as it was when this recipe was made
};

}  // namespace routemq::redis
