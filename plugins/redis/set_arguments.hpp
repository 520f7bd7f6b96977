#pragma once
// SET key value [EX|PX n | KEEPTTL] [NX] [XX] as views, for RedisManager::set and Pipeline::set: one
// reading of SetOptions (and of the default TTL, which applies when no expiry option is given).
// Internal to plugins/redis/. Views into its arguments and its own expiry text: neither copied nor moved.
#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

class SetArguments {
 public:
  SetArguments(std::string_view full_key, std::string_view value, const SetOptions& options,
               std::optional<std::chrono::seconds> default_ttl) {
    add("SET");
    add(full_key);
    add(value);
    if (options.ex) add_expiry("EX", options.ex->count());
    else if (options.px) add_expiry("PX", options.px->count());
    else if (options.keepttl) add("KEEPTTL");
    else if (default_ttl) add_expiry("EX", default_ttl->count());
    if (options.nx) add("NX");
    if (options.xx) add("XX");
  }
  SetArguments(const SetArguments&) = delete;
  SetArguments& operator=(const SetArguments&) = delete;

  std::span<const std::string_view> views() const { return {args_.data(), count_}; }

 private:
  void add(std::string_view arg) { args_[count_++] = arg; }
  void add_expiry(std::string_view unit, long long amount) {
    expiry_ = std::to_string(amount);
    add(unit);
    add(expiry_);
  }

  std::string expiry_;
  std::array<std::string_view, 7> args_{};
  std::size_t count_ = 0;
};

}  // namespace routemq::redis
