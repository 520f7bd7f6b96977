#pragma once
// The pipeline of one connection, without any I/O: requests are queued by anyone, written together in
// one batch, and completed in FIFO order as replies arrive (Redis answers in order). A request may
// expect several replies (a pipeline or MULTI/EXEC written as one unit); it completes with all of them.
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "plugins/redis/protocol/result.hpp"

namespace routemq::redis {

using Completion = std::function<void(Result)>;
using Clock = std::chrono::steady_clock;

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
  // The bytes of every request not yet written, concatenated; they now count as written at `now`.
  std::string take_unwritten(Clock::time_point now);

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
  void complete_front();
  void complete_fire_and_forget();

  std::deque<Entry> entries_;
  std::size_t first_unwritten_ = 0;  // entries_[0, first_unwritten_) are written
};

}  // namespace routemq::redis
