#include "plugins/redis/recipes/invalidation.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

Invalidation::Invalidation(const RedisManager& redis) : redis_(redis.share()) {}
namespace {

constexpr std::size_t kUnlinkBatch = 500;

// KEYS[1] the value, KEYS[2..] its tag sets; ARGV[1] the value, ARGV[2] the TTL in seconds. Every tag
// set holds the value's full key and lives at least as long as the value.
const Script set_tagged_script(R"lua(
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('TTL', KEYS[i]) < ttl then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1
)lua");

// KEYS[1] the tag set: unlinks every key in it, then the set; returns how many keys existed.
const Script invalidate_tag_script(R"lua(
local members = redis.call('SMEMBERS', KEYS[1])
local removed = 0
for i = 1, #members, 500 do
  removed = removed + redis.call('UNLINK', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('DEL', KEYS[1])
return removed
)lua");

std::string tag_key(std::string_view tag) { return "tag:" + std::string(tag); }

}  // namespace

awaitable<long long> Invalidation::invalidate(std::string_view name) {
  std::vector<std::string> names{std::string(name)};  // named: no braced list across co_await (GCC 12)
  co_return co_await redis_->unlink(std::move(names));
}

awaitable<long long> Invalidation::invalidate_prefix(std::string_view prefix) {
  co_return co_await invalidate_pattern(glob_escape(prefix) + "*");
}

// Keys are unlinked as each SCAN page arrives, in batches: memory stays flat however many keys match.
awaitable<long long> Invalidation::invalidate_pattern(std::string_view pattern) {
  long long removed = 0;
  std::string cursor = "0";
  do {
    const auto page = co_await redis_->scan_page(pattern, cursor);
    if (!page) break;
    for (std::size_t at = 0; at < page->size(); at += kUnlinkBatch) {
      std::vector<std::string> unlink_keys{"UNLINK"};
      unlink_keys.insert(unlink_keys.end(), page->begin() + static_cast<std::ptrdiff_t>(at),
                         page->begin() + static_cast<std::ptrdiff_t>(std::min(page->size(), at + kUnlinkBatch)));
      const auto result = co_await redis_->run(std::move(unlink_keys));  // full names: run() adds no prefix
      if (result.succeeded()) removed += result.reply.as_integer().value_or(0);
    }
  } while (cursor != "0");
  co_return removed;
}

awaitable<bool> Invalidation::set_tagged(std::string_view name, std::string_view value, std::chrono::seconds ttl,
                                         std::vector<std::string> tags) {
  if (ttl.count() <= 0) co_return false;
  std::vector<std::string> keys{std::string(name)};
  for (const auto& tag : tags) keys.push_back(tag_key(tag));
  std::vector<std::string> args{std::string(value), std::to_string(ttl.count())};
  const auto result = co_await redis_->eval(set_tagged_script, std::move(keys), std::move(args));
  co_return result.succeeded();
}

awaitable<long long> Invalidation::invalidate_tag(std::string_view tag) {
  std::vector<std::string> keys{tag_key(tag)};
  const auto result = co_await redis_->eval(invalidate_tag_script, std::move(keys), {});
  co_return result.succeeded() ? result.reply.as_integer().value_or(0) : 0;
}

}  // namespace routemq::redis
