#include "plugins/redis/recipes/write_through.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/recipes/codec_values.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

WriteThrough::WriteThrough(const RedisManager& redis) : redis_(redis.share()) {}

awaitable<bool> WriteThrough::drop_cached(std::string_view name) {
  const std::vector<std::string> names{std::string(name)};
  const auto result = co_await redis_->run(cmd::unlink(redis_->key_space(), names).as_result());
  co_return result.succeeded();
}

awaitable<PutResult> WriteThrough::put(std::string_view name, nlohmann::json value,
                                       std::optional<std::chrono::seconds> ttl, StoreWriter write_store,
                                       std::vector<std::string> tags) {
  PutResult out;
  std::string store_error;
  try {
    co_await write_store(value);
    out.stored = true;
  } catch (const std::exception& e) {
    store_error = e.what();
  } catch (...) {
    store_error = "unknown exception";
  }
  if (!out.stored) {
    // The store may or may not have the new value (a timeout, say): the cache must not keep claiming
    // the old one.
    const bool dropped = co_await drop_cached(name);
    out.error = fmt::format("writing '{}' to the store failed: {}{}", name, store_error,
                            dropped ? "" : "; the cached value could not be invalidated (Redis unavailable)");
    spdlog::warn("redis: put: {}", out.error);
    co_return out;
  }
  out.cached = co_await CodecValues(*redis_).set(name, value, ttl, std::move(tags));
  if (!out.cached) {
    const bool dropped = co_await drop_cached(name);
    out.error = dropped ? fmt::format("'{}' stored; the cache could not take the new value, the old one was invalidated", name)
                        : fmt::format("'{}' stored; the cache is unavailable and may serve the old value until its TTL ends", name);
    spdlog::warn("redis: put: {}", out.error);
  }
  co_return out;
}

}  // namespace routemq::redis
