#pragma once
// Tags: a set per tag, "tag:<tag>" under the manager's (or view's) prefix, naming every key stored
// with the tag, so Invalidation::invalidate_tag can remove them all. What CodecValues, CacheAside,
// WriteThrough, WriteBehind and Invalidation::set_tagged write through when given tags.
//
// A tag set never expires before the keys it names: it takes the longest TTL among them, and none
// while it names a key without one.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/asio.hpp"

namespace routemq::redis {

class RedisManager;

using Tags = std::vector<std::string>;

// The tag set's key (before the manager's prefix).
std::string tag_key(std::string_view tag);

// SET `bytes` at `key` (for `ttl`, or without expiry) and adds the key to every tag's set, in one
// script: no tagged value exists that its tags do not name. False when not stored.
awaitable<bool> store_tagged(RedisManager& redis, std::string_view key, std::string bytes,
                             std::optional<std::chrono::seconds> ttl, const Tags& tags);

// Adds an existing key, whatever its type, to every tag's set; false when the key does not exist or
// Redis did not answer.
awaitable<bool> add_tags(RedisManager& redis, std::string_view key, const Tags& tags);

}  // namespace routemq::redis
