#pragma once
// Tags: a set per tag, "tag:<tag>" under the manager's (or view's) prefix, naming every key stored
// with the tag, so Invalidation::invalidate_tag can remove them all. What CodecValues, CacheAside,
// WriteThrough, WriteBehind and Invalidation::set_tagged write through when given tags.
//
// A tag set never expires before the keys it names: it takes the longest TTL among them, and none
// while it names a key without one.
//
// On one Redis (and on a cluster when the key and its tag sets share a hash tag) one script writes
// the value and its tag sets together. On a cluster they usually live in different slots, on
// different masters, and no script can span them; the order of the steps keeps the promise instead:
// the tag sets name the key first, the value is stored, then each set is asked whether it still names
// the key. invalidate_tag takes a set's members and deletes the set in one step, then unlinks them:
// it either finds the key named, or took the set before the check, which then removes the value.
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

// SET `bytes` at `key` (for `ttl`, or without expiry) and adds the key to every tag's set: no
// tagged value exists that its tags do not name. False when not stored (or, on a cluster, removed
// again because one of its tags was invalidated meanwhile).
awaitable<bool> store_tagged(RedisManager& redis, std::string_view key, std::string bytes,
                             std::optional<std::chrono::seconds> ttl, const Tags& tags);

// Adds an existing key, whatever its type, to every tag's set; false when the key does not exist or
// Redis did not answer.
awaitable<bool> add_tags(RedisManager& redis, std::string_view key, const Tags& tags);

}  // namespace routemq::redis
