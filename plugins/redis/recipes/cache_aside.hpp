#pragma once
// Cache-aside in one call: remember(key, options, loader) returns the cached value, or runs `loader`,
// stores what it returns for `ttl` (through the manager's or view's codec), and returns it. A recipe
// beside the manager (or a view).
//
//   redis::CacheAside cache(redis::manager(ctx));
//   auto user = co_await cache.remember("user:42", {.ttl = 60s}, [id]() -> awaitable<nlohmann::json> {
//     co_return co_await load_user_from_db(id);
//   });
//   if (user.value) use(*user.value); else log(user.error);   // error: the loader failed
//
// - One load per key at a time in this process: concurrent misses wait for the load already running
//   (their `source` is shared_load) instead of stampeding the store behind the cache. Every CacheAside
//   on the same manager, and every view of the same scope, shares the loads.
// - stale_while_revalidate > 0: a value older than `ttl` but younger than ttl + stale_while_revalidate
//   is returned at once (source stale) and reloaded in the background. Then the loader outlives the
//   call: capture by value, never references to the caller's locals.
// - A loader that returns JSON null: returned, not stored, unless `.cache_null = true` (negative caching).
// - Redis disabled or down: the loader runs and its value is returned (not stored). A stored value
//   the codec cannot decode is reloaded and overwritten. A loader that throws is reported in `error`,
//   never thrown into the caller; the next call loads again.
// - Counted in the manager's cache_stats() (hits, stale hits, misses, loads, shared loads, failures).
#include <chrono>
#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/asio.hpp"

namespace routemq::redis {

class RedisManager;

struct RememberOptions {
  std::chrono::seconds ttl{60};
  std::chrono::seconds stale_while_revalidate{0};
  std::vector<std::string> tags{};  // the stored value is tagged (Invalidation::invalidate_tag)
  // A loader's JSON null is returned but, by default, not stored: null usually means "not found",
  // and a cached "not found" would hide the row once it is created, for `ttl`. True stores it as any
  // other value (negative caching: a missing row is not asked for again and again).
  bool cache_null = false;
};

struct Remembered {
  enum class Source { cache, stale, loaded, shared_load, failed };
  std::optional<nlohmann::json> value;
  Source source = Source::failed;
  std::string error;  // why the loader failed (source failed), or that the stored value could not be decoded
};

using Loader = std::function<awaitable<nlohmann::json>()>;

class CacheAside {
 public:
  // Holds a handle on the manager (or view): neither need outlive the recipe, and a call need not
  // outlive the recipe either (a temporary is fine, also in co_spawn): each call holds the handle.
  explicit CacheAside(const RedisManager& redis);

  awaitable<Remembered> remember(std::string_view key, RememberOptions options, Loader loader) {
    return remember_in(redis_, std::string(key), options, std::move(loader));  // the call holds the handle
  }

 private:
  static awaitable<Remembered> remember_in(std::shared_ptr<RedisManager> redis, std::string name,
                                           RememberOptions options, Loader loader);
  static awaitable<Remembered> load_once(std::shared_ptr<RedisManager> redis, std::string name,
                                         RememberOptions options, Loader loader);
  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
};

}  // namespace routemq::redis
