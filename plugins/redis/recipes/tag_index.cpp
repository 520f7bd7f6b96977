#include "plugins/redis/recipes/tag_index.hpp"

#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {
namespace {

// KEYS[1] the value, KEYS[2..] its tag sets. ARGV[1] "set" to store ARGV[2] first (for ARGV[3]
// seconds, 0 = no expiry), or "tag" to tag the key as it is. Each tag set then names the key and
// lives at least as long as it: a set made now takes the key's TTL, an older one only lengthens, and
// a key without expiry makes its sets persist.
const Script& tag_script() {
  static const Script script(R"lua(
if ARGV[1] == 'set' then
  local ttl = tonumber(ARGV[3])
  if ttl > 0 then redis.call('SET', KEYS[1], ARGV[2], 'EX', ttl) else redis.call('SET', KEYS[1], ARGV[2]) end
end
local left = redis.call('PTTL', KEYS[1])
if left == -2 then return 0 end
for i = 2, #KEYS do
  local existed = redis.call('EXISTS', KEYS[i]) == 1
  redis.call('SADD', KEYS[i], KEYS[1])
  if left == -1 then
    redis.call('PERSIST', KEYS[i])
  else
    local set_left = redis.call('PTTL', KEYS[i])
    if not existed or (set_left >= 0 and set_left < left) then redis.call('PEXPIRE', KEYS[i], left) end
  end
end
return 1
)lua");
  return script;
}

std::vector<std::string> tagged_keys(std::string_view key, const Tags& tags) {
  std::vector<std::string> keys{std::string(key)};
  for (const auto& tag : tags) keys.push_back(tag_key(tag));
  return keys;
}

}  // namespace

std::string tag_key(std::string_view tag) { return "tag:" + std::string(tag); }

awaitable<bool> store_tagged(RedisManager& redis, std::string_view key, std::string bytes,
                             std::optional<std::chrono::seconds> ttl, const Tags& tags) {
  std::vector<std::string> args{"set", std::move(bytes), std::to_string(ttl ? ttl->count() : 0)};
  const auto result = co_await redis.eval(tag_script(), tagged_keys(key, tags), std::move(args));
  co_return result.succeeded() && result.reply.integer == 1;
}

awaitable<bool> add_tags(RedisManager& redis, std::string_view key, const Tags& tags) {
  std::vector<std::string> args{"tag"};
  const auto result = co_await redis.eval(tag_script(), tagged_keys(key, tags), std::move(args));
  co_return result.succeeded() && result.reply.integer == 1;
}

}  // namespace routemq::redis
