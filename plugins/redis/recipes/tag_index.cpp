#include "plugins/redis/recipes/tag_index.hpp"

#include <algorithm>

#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {
namespace {

// The set `set` names `key`, and lives at least as long as it (`left`: the key's milliseconds, -1
// without expiry): a set made now takes the key's TTL, an older one only lengthens, and a key
// without expiry makes its sets persist. Shared by both scripts below.
constexpr std::string_view name_in_set_lua = R"lua(
local function name_in_set(set, key, left)
  local existed = redis.call('EXISTS', set) == 1
  redis.call('SADD', set, key)
  if left == -1 then
    redis.call('PERSIST', set)
  else
    local set_left = redis.call('PTTL', set)
    if not existed or (set_left >= 0 and set_left < left) then redis.call('PEXPIRE', set, left) end
  end
end
)lua";

// KEYS[1] the value, KEYS[2..] its tag sets, all in one slot. ARGV[1] "set" to store ARGV[2] first
// (for ARGV[3] seconds, 0 = no expiry), or "tag" to tag the key as it is.
const Script& tag_script() {
  static const Script script(std::string(name_in_set_lua) + R"lua(
if ARGV[1] == 'set' then
  local ttl = tonumber(ARGV[3])
  if ttl > 0 then redis.call('SET', KEYS[1], ARGV[2], 'EX', ttl) else redis.call('SET', KEYS[1], ARGV[2]) end
end
local left = redis.call('PTTL', KEYS[1])
if left == -2 then return 0 end
for i = 2, #KEYS do name_in_set(KEYS[i], KEYS[1], left) end
return 1
)lua");
  return script;
}

// KEYS[1] one tag set (in its own slot): names the key ARGV[1] (full name) for ARGV[2] milliseconds.
const Script& tag_set_script() {
  static const Script script(std::string(name_in_set_lua) + R"lua(
name_in_set(KEYS[1], ARGV[1], tonumber(ARGV[2]))
return 1
)lua");
  return script;
}

// The value runs ahead of its sets on a cluster: they are written first, and expire this much later
// than the value's TTL counted from then, so they never expire before it.
constexpr std::chrono::milliseconds set_margin{1000};

std::vector<std::string> tagged_keys(std::string_view key, const Tags& tags) {
  std::vector<std::string> keys{std::string(key)};
  for (const auto& tag : tags) keys.push_back(tag_key(tag));
  return keys;
}

// Whether one script may touch the key and all its tag sets: always on one Redis; on a cluster
// when they hash to one slot.
bool one_script_reaches(const RedisManager& redis, const std::vector<std::string>& keys) {
  if (!redis.on_cluster()) return true;
  const auto slot = hash_slot(redis.key(keys.front()));
  return std::all_of(keys.begin(), keys.end(), [&](const std::string& key) { return hash_slot(redis.key(key)) == slot; });
}

// Every tag set names `key` (full name) for `left` ms (-1: for ever); false when one was not written.
awaitable<bool> name_in_tag_sets(RedisManager& redis, std::string full_key, long long left, const Tags& tags) {
  for (const auto& tag : tags) {
    std::vector<std::string> set{tag_key(tag)};
    std::vector<std::string> args{full_key, std::to_string(left)};
    const auto result = co_await redis.eval(tag_set_script(), std::move(set), std::move(args));
    if (!result.succeeded()) co_return false;
  }
  co_return true;
}

awaitable<bool> all_tag_sets_name(RedisManager& redis, std::string full_key, const Tags& tags) {
  for (const auto& tag : tags)
    if (!co_await redis.sismember(tag_key(tag), full_key)) co_return false;
  co_return true;
}

// The cluster's way (see the header): sets first, the value, then the check.
awaitable<bool> store_tagged_apart(RedisManager& redis, std::string key, std::string bytes,
                                   std::optional<std::chrono::seconds> ttl, Tags tags) {
  const long long left = ttl ? std::chrono::milliseconds(*ttl + set_margin).count() : -1;
  if (!co_await name_in_tag_sets(redis, redis.key(key), left, tags)) co_return false;
  SetOptions options;
  if (ttl) options.ex = *ttl;
  if (!co_await redis.run(cmd::set(redis.key_space(), key, bytes, options, redis.default_ttl()))) co_return false;  // bytes as given
  if (co_await all_tag_sets_name(redis, redis.key(key), tags)) co_return true;
  std::vector<std::string> invalidated{key};  // a tag invalidated while it was stored: it goes too
  co_await redis.unlink(std::move(invalidated));
  co_return false;
}

awaitable<bool> add_tags_apart(RedisManager& redis, std::string key, Tags tags) {
  const auto left = co_await redis.pttl(key);
  if (left == -2) co_return false;
  co_return co_await name_in_tag_sets(redis, redis.key(key), left == -1 ? -1 : left + set_margin.count(), tags);
}

}  // namespace

std::string tag_key(std::string_view tag) { return "tag:" + std::string(tag); }

awaitable<bool> store_tagged(RedisManager& redis, std::string_view key, std::string bytes,
                             std::optional<std::chrono::seconds> ttl, const Tags& tags) {
  auto keys = tagged_keys(key, tags);
  if (!one_script_reaches(redis, keys)) co_return co_await store_tagged_apart(redis, std::string(key), std::move(bytes), ttl, tags);
  std::vector<std::string> args{"set", std::move(bytes), std::to_string(ttl ? ttl->count() : 0)};
  const auto result = co_await redis.eval(tag_script(), std::move(keys), std::move(args));
  co_return result.succeeded() && result.reply.integer == 1;
}

awaitable<bool> add_tags(RedisManager& redis, std::string_view key, const Tags& tags) {
  auto keys = tagged_keys(key, tags);
  if (!one_script_reaches(redis, keys)) co_return co_await add_tags_apart(redis, std::string(key), tags);
  std::vector<std::string> args{"tag"};
  const auto result = co_await redis.eval(tag_script(), std::move(keys), std::move(args));
  co_return result.succeeded() && result.reply.integer == 1;
}

}  // namespace routemq::redis
