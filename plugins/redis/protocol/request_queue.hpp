#pragma once
// The pipeline of one connection, without any I/O: requests are queued by anyone, written together in
// one batch, and completed in FIFO order as replies arrive (Redis answers in order). A request may
// expect several replies (a pipeline or MULTI/EXEC written as one unit); it completes with all of them.
#include <chrono>
#include <concepts>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugins/redis/protocol/result.hpp"

namespace routemq::redis {

using Clock = std::chrono::steady_clock;

// Told once how a request ended.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void complete(Result result) = 0;
};

// What a request calls when it is done: a Waiter (the RedisManager's suspended callers are Waiters
// themselves, so a command costs one allocation for them, not two) or any callable taking a Result.
class Completion {
 public:
  Completion() = default;
  template <std::derived_from<Waiter> W>
  Completion(std::shared_ptr<W> waiter) : waiter_(std::move(waiter)) {}
  template <class Callback>
    requires std::invocable<Callback&, Result>
  Completion(Callback callback) : waiter_(std::make_shared<Calls<Callback>>(std::move(callback))) {}

  explicit operator bool() const { return waiter_ != nullptr; }
  void operator()(Result result) { std::exchange(waiter_, nullptr)->complete(std::move(result)); }  // once

 private:
  template <class Callback>
  struct Calls final : Waiter {
    explicit Calls(Callback f) : callback(std::move(f)) {}
    void complete(Result result) override { callback(std::move(result)); }
    Callback callback;
  };

  std::shared_ptr<Waiter> waiter_;
};

struct Request {
  std::string bytes;        // one or more encoded commands
  std::size_t replies = 1;  // how many replies complete it (0: none expected, e.g. SUBSCRIBE pushes)
  Completion done;          // gets one reply, or an array of `replies` replies when more than one
};

class RequestQueue {
 public:
  void push(Request request);
  // Ahead of everything not yet written (a connection's handshake goes before queued commands).
  void push_front_unwritten(Request request);

  bool has_unwritten() const { return first_unwritten_ < entries_.size(); }
  // The bytes of every request not yet written, concatenated into `out` (replacing what it held but
  // keeping its capacity: one buffer serves every write); they now count as written at `now`.
  void take_unwritten(Clock::time_point now, std::string& out);

  // Completes the oldest written request once all its replies are in. Returns false when no written
  // request expects a reply (the server sent something unasked for: a protocol error).
  bool on_reply(Reply reply);

  // Completes every request, written or not, with `failure`; the queue is empty afterwards.
  void fail_all(Failure failure, const std::string& detail);

  std::size_t size() const { return entries_.size(); }
  std::size_t awaiting_replies() const { return first_unwritten_; }
  bool empty() const { return entries_.empty(); }
  // When the oldest request still waiting for a reply was written: the deadline runs from here.
  std::optional<Clock::time_point> oldest_written() const;

 private:
  struct Entry {
    Request request;
    std::vector<Reply> replies;
    Clock::time_point written_at{};
  };
  void complete_front(Result result);
  void complete_fire_and_forget();

  std::deque<Entry> entries_;
  std::size_t first_unwritten_ = 0;  // entries_[0, first_unwritten_) are written
};

}  // namespace routemq::redis
