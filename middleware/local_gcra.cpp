#include "middleware/local_gcra.hpp"

namespace routemq::middleware {

LocalGcra::LocalGcra(std::chrono::microseconds interval, long long burst, std::size_t max_keys)
    : interval_(interval), burst_(burst), max_keys_(max_keys) {}

std::size_t LocalGcra::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

RateLimitDecision LocalGcra::decide(const std::string& key, long long cost, Clock::time_point now) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) {
      entries_.erase(by_age_.front());
      by_age_.pop_front();
    }
    by_age_.push_back(key);
    it = entries_.emplace(key, Entry{now, std::prev(by_age_.end())}).first;
  } else {
    by_age_.splice(by_age_.end(), by_age_, it->second.age);
  }
  const auto tolerance = interval_ * burst_;
  auto tat = std::max(it->second.tat, now);
  const auto new_tat = tat + interval_ * cost;
  const auto allow_at = new_tat - tolerance;
  RateLimitDecision decision;
  decision.limit = burst_;
  decision.source = "local";
  if (now < allow_at) {
    decision.allowed = false;
    decision.remaining = std::max<long long>(0, (tolerance - (tat - now)) / interval_);
    decision.retry_after_ms = duration_cast<milliseconds>(allow_at - now).count();
    decision.reset_after_ms = duration_cast<milliseconds>(tat - now).count();
    return decision;
  }
  it->second.tat = new_tat;
  decision.remaining = (tolerance - (new_tat - now)) / interval_;
  decision.reset_after_ms = duration_cast<milliseconds>(new_tat - now).count();
  return decision;
}

}  // namespace routemq::middleware
