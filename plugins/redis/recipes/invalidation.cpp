#include "plugins/redis/recipes/invalidation.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "plugins/redis/recipes/tag_index.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

Invalidation::Invalidation(const RedisManager& redis) : redis_(redis.share()) {}
namespace {

constexpr std::size_t kUnlinkBatch = 500;

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

// On a cluster the keys a set names live in other slots: KEYS[1] the tag set, its members returned
// and the set deleted in one step (tag_index.hpp says why that order suffices).
const Script take_tag_members_script(R"lua(
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members
)lua");

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
    auto page = co_await redis_->scan(pattern, cursor);
    if (!page) break;
    cursor = page->cursor;
    const auto& names = page->names;
    for (std::size_t at = 0; at < names.size(); at += kUnlinkBatch) {
      const std::vector<std::string> batch(names.begin() + static_cast<std::ptrdiff_t>(at),
                                           names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), at + kUnlinkBatch)));
      removed += co_await redis_->run(cmd::unlink(redis_->key_space(), batch));
    }
  } while (cursor != "0");
  co_return removed;
}

awaitable<bool> Invalidation::set_tagged(std::string_view name, std::string_view value, std::chrono::seconds ttl,
                                         std::vector<std::string> tags) {
  if (ttl.count() <= 0) co_return false;
  co_return co_await store_tagged(*redis_, name, std::string(value), ttl, tags);
}

awaitable<bool> Invalidation::tag(std::string_view name, std::vector<std::string> tags) {
  co_return co_await add_tags(*redis_, name, tags);
}

awaitable<long long> Invalidation::invalidate_tag(std::string_view tag) {
  if (redis_->on_cluster()) co_return co_await invalidate_tag_across_slots(std::string(tag));
  std::vector<std::string> keys{tag_key(tag)};
  const auto result = co_await redis_->eval(invalidate_tag_script, std::move(keys), {});
  co_return result.succeeded() ? result.reply.as_integer().value_or(0) : 0;
}

// The members taken from the set are unlinked in batches (UNLINK is split by slot); a batch that got
// no answer is named by the set again, so the next invalidate_tag removes it: none is forgotten.
awaitable<long long> Invalidation::invalidate_tag_across_slots(std::string tag) {
  std::vector<std::string> keys{tag_key(tag)};
  const auto taken = co_await redis_->eval(take_tag_members_script, std::move(keys), {});
  if (!taken.succeeded() || !taken.reply.is_array()) co_return 0;
  long long removed = 0;
  const auto& members = taken.reply.elements;
  for (std::size_t at = 0; at < members.size(); at += kUnlinkBatch) {
    const auto end = std::min(members.size(), at + kUnlinkBatch);
    std::vector<std::string> full_names, names;  // the set holds names as stored; commands take them unprefixed
    for (auto i = at; i < end; ++i) {
      full_names.push_back(members[i].text);
      names.push_back(redis_->strip_prefix(members[i].text));
    }
    const auto result = co_await redis_->run(cmd::unlink(redis_->key_space(), names).as_result());
    if (result.succeeded()) {
      removed += result.reply.as_integer().value_or(0);
      continue;
    }
    const auto named_again = co_await redis_->run(cmd::sadd(redis_->key_space(), tag_key(tag), full_names).as_result());
    if (!named_again.succeeded())
      spdlog::warn("redis: invalidate_tag '{}': {} key(s) neither removed nor named by the tag again: {}", tag,
                   end - at, result.error_text());
  }
  co_return removed;
}

}  // namespace routemq::redis
