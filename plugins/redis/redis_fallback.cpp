// The manager's get, getdel, set and del through redis.fallback_cache (fallback_cache.hpp): Redis is
// asked first, always; what it answers is kept in process, and only a call refused as unavailable is
// answered from there. Values are kept as stored (sealed, when the manager encrypts), and opened as a
// value read from Redis is.
#include "plugins/redis/commands/commands.hpp"
#include "plugins/redis/engine.hpp"
#include "plugins/redis/fallback_cache.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

namespace {

// Redis replied (a value, nil or an error reply): it is there again, whatever it said.
bool redis_replied(const Result& result) { return result.ok(); }

}  // namespace

awaitable<std::optional<std::string>> RedisManager::read_or_local(FallbackCache& local, std::string name, bool take) {
  auto command = take ? cmd::getdel(key_space(), name) : cmd::get(key_space(), name);
  const auto decode = command.decoder();
  const auto stored_name = key_space().key(name);
  auto result = co_await run(std::move(command).as_result());
  std::optional<std::string> stored;
  if (result.unavailable()) {
    local.redis_unavailable();
    stored = take ? local.take(stored_name) : local.get(stored_name);
    if (stored) local.served.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (redis_replied(result)) local.redis_answered();
    stored = decode(std::move(result));
    if (stored && !take) local.put(stored_name, *stored, std::nullopt);
    else local.erase(stored_name);  // nil, taken, an error reply, or an outcome unknown (timeout)
  }
  if (!stored || !encrypts_values()) co_return stored;
  co_return open_value(name, std::move(*stored)).value;
}

awaitable<bool> RedisManager::write_or_local(FallbackCache& local, std::string name, std::string stored,
                                             SetOptions options) {
  auto command = cmd::set(key_space(), name, stored, options, default_ttl());
  const auto decode = command.decoder();
  const auto stored_name = key_space().key(name);
  const auto ttl = expiry_set_by(options, default_ttl());  // kept for max_age at most, or its own TTL
  auto result = co_await run(std::move(command).as_result());
  if (result.unavailable()) {
    local.redis_unavailable();
    // NX and XX decide between instances (a lock, a first writer): never decided in one process.
    if (options.nx || options.xx) co_return false;
    local.put(stored_name, std::move(stored), ttl);
    local.kept_offline.fetch_add(1, std::memory_order_relaxed);
    co_return true;
  }
  if (redis_replied(result)) local.redis_answered();
  const bool written = decode(std::move(result));
  if (written) local.put(stored_name, std::move(stored), ttl);
  else local.erase(stored_name);  // not set (NX, XX), an error, or an outcome unknown: what Redis holds is unknown here
  co_return written;
}

void RedisManager::forget_locally(const std::vector<std::string>& names) {
  auto* local = engine_->local_fallback();
  if (!local) return;
  for (const auto& name : names) local->erase(key_space().key(name));
}

}  // namespace routemq::redis
