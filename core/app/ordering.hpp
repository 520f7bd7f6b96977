#pragma once
// Per-key ordering of a route's messages: messages with the same key are handled one after another,
// in the order they arrived; messages with different keys run in parallel. Without it, two workers
// finish one topic's messages in any order, and state written by the handlers goes back in time.
//
//   app.route("devices/{device_id}/telemetry", h);                    // ordered by topic (default)
//   app.route("devices/{device_id}/+/x", h).ordered("{device_id}");   // by device, across its topics
//   app.route("rpc/{service}", h).unordered();                        // independent requests
//
// YAML overrides code: routes.<name>.ordered: true | false | "{device_id}".
// Sans-IO: the app decides the key and admits messages on the MQTT thread, in arrival order.
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/routing/router.hpp"

namespace routemq {

// The key a message is ordered by: "{topic}", route parameters ("{device_id}") and literal text.
class OrderKey {
 public:
  static OrderKey by_topic() { return parse("{topic}", {}); }
  // Throws std::invalid_argument naming the problem: unbalanced braces, an empty name, or a name that
  // is neither `topic` nor one of `params` (the route pattern's parameter names).
  static OrderKey parse(std::string_view text, const std::vector<std::string>& params);

  std::string render(std::string_view topic, const Params& params) const;
  const std::string& text() const { return text_; }

 private:
  struct Part {
    enum class Kind { literal, topic, param } kind;
    std::string text;  // literal text or parameter name
  };
  std::string text_;
  std::vector<Part> parts_;
};

// The queues behind keys whose messages are being handled. `Job` is one admitted message; thread-safe.
template <class Job>
class OrderedLanes {
 public:
  // True when nothing of `key` is being handled: the caller handles `job` now, then asks next(key).
  // False when `job` was queued (moved from) behind the key's running message.
  bool admit(const std::string& key, Job& job) {
    std::lock_guard lock(mutex_);
    auto [lane, idle] = lanes_.try_emplace(key);
    if (idle) return true;
    lane->second.push_back(std::move(job));
    return false;
  }

  // The key's running message finished: its next queued message, to handle now; nothing when the
  // key is idle again (its lane is dropped, so keys seen once cost nothing afterwards).
  std::optional<Job> next(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto lane = lanes_.find(key);
    if (lane == lanes_.end()) return std::nullopt;
    if (lane->second.empty()) {
      lanes_.erase(lane);
      return std::nullopt;
    }
    std::optional<Job> job(std::move(lane->second.front()));
    lane->second.pop_front();
    return job;
  }

  // Keys with a message being handled (for tests and metrics).
  std::size_t busy_keys() const {
    std::lock_guard lock(mutex_);
    return lanes_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::deque<Job>> lanes_;  // present: a message of the key is running
};

}  // namespace routemq
