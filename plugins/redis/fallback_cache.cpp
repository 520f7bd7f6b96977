#include "plugins/redis/fallback_cache.hpp"

#include <algorithm>

namespace routemq::redis {

void FallbackCache::put(std::string key, std::string value, std::optional<std::chrono::milliseconds> ttl,
                        Clock::time_point now) {
  const auto keep_for = ttl ? std::min(*ttl, limits_.max_age) : limits_.max_age;
  Entry entry{std::move(key), std::move(value), now + keep_for};
  std::lock_guard lock(mutex_);
  if (const auto found = index_.find(entry.key); found != index_.end()) remove(found->second);
  if (cost(entry) > limits_.max_bytes || keep_for <= std::chrono::milliseconds::zero()) return;
  bytes_ += cost(entry);
  entries_.push_front(std::move(entry));
  index_.emplace(entries_.front().key, entries_.begin());
  evict_over_limits();
}

std::optional<std::string> FallbackCache::get(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  if (found->second->expires <= now) {
    remove(found->second);
    return std::nullopt;
  }
  entries_.splice(entries_.begin(), entries_, found->second);  // iterators and the key's view stay valid
  return entries_.front().value;
}

std::optional<std::string> FallbackCache::take(const std::string& key, Clock::time_point now) {
  auto value = get(key, now);
  if (value) erase(key);
  return value;
}

bool FallbackCache::erase(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto found = index_.find(key);
  if (found == index_.end()) return false;
  remove(found->second);
  return true;
}

std::size_t FallbackCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t FallbackCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

void FallbackCache::remove(Entries::iterator at) {
  bytes_ -= cost(*at);
  index_.erase(at->key);
  entries_.erase(at);
}

void FallbackCache::evict_over_limits() {
  while (!entries_.empty() && (entries_.size() > limits_.max_entries || bytes_ > limits_.max_bytes))
    remove(std::prev(entries_.end()));
}

void FallbackCache::clear() {
  std::lock_guard lock(mutex_);
  index_.clear();
  entries_.clear();
  bytes_ = 0;
}

}  // namespace routemq::redis
