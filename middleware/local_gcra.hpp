#pragma once
// An in-process GCRA for when Redis is unavailable: the same decision rule per process, with a bounded
// number of keys (the oldest are forgotten first), so an outage cannot grow memory without limit.
#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "middleware/rate_limit.hpp"

namespace routemq::middleware {

class LocalGcra {
 public:
  LocalGcra(std::chrono::microseconds interval, long long burst, std::size_t max_keys = 10000);
  RateLimitDecision decide(const std::string& key, long long cost, std::chrono::steady_clock::time_point now);
  std::size_t size() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Clock::time_point tat;
    std::list<std::string>::iterator age;
  };
  std::chrono::microseconds interval_;
  long long burst_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> by_age_;  // least recently used first
};

}  // namespace routemq::middleware
