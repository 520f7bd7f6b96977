#pragma once
// The pipeline of one connection, without any I/O: requests are queued by anyone, written together in
// one batch, and completed in FIFO order as replies arrive (Redis answers in order). A request may
// expect several replies (a pipeline or MULTI/EXEC written as one unit); it completes with all of them.
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugins/redis/protocol/result.hpp"
#include "plugins/redis/recycled.hpp"

namespace routemq::redis {

using Clock = std::chrono::steady_clock;

// How a request tells that it ended, once, with its Result: a Target (the RedisManager's suspended
// callers are Targets themselves, so a command costs one allocation for them, not two) or any
// callable taking a Result. The one name of the completion path: a request completes, its Completion
// is called, its Target is told.
class Completion {
 public:
  class Target {
   public:
    virtual ~Target() = default;
    // Takes the result (moved once, at its end) and `self`, the reference its Completion held: a
    // target that lives on keeps that one, instead of counting a new one (shared_from_this: a
    // compare-and-swap per hop per command).
    virtual void complete(std::shared_ptr<Target>&& self, Result&& result) = 0;
  };

  Completion() = default;
  template <std::derived_from<Target> T>
  Completion(std::shared_ptr<T> target) : target_(std::move(target)) {}
  template <class Callback>
    requires std::invocable<Callback&, Result>
  Completion(Callback callback) : target_(std::make_shared<Calls<Callback>>(std::move(callback))) {}

  explicit operator bool() const { return target_ != nullptr; }
  void operator()(Result&& result) {  // once
    auto target = std::move(target_);
    target->complete(std::move(target), std::move(result));
  }

 private:
  template <class Callback>
  struct Calls final : Target {
    explicit Calls(Callback f) : callback(std::move(f)) {}
    void complete(std::shared_ptr<Target>&&, Result&& result) override { callback(std::move(result)); }
    Callback callback;
  };

  std::shared_ptr<Target> target_;
};

struct Request {
  Request() = default;
  // `encoded` moved in once (taken by value, it was moved twice on every command's way).
  Request(std::string&& encoded, std::size_t expected_replies, Completion done)
      : bytes(std::move(encoded)), replies(expected_replies), completion(std::move(done)) {}

  std::string bytes;        // one or more encoded commands
  std::size_t replies = 1;  // how many replies complete it (0: none expected, e.g. SUBSCRIBE pushes)
  Completion completion;    // gets one reply, or an array of `replies` replies when more than one
  // Instead of `bytes`, when set: bytes lent by the completion's target, which keeps them unchanged
  // until it is told (a cluster keeps a pending request's bytes for its redirections; lent, they are
  // not copied for each send).
  std::string_view lent_bytes;
  // Where it may go (cluster/cluster_pool.hpp, sentinel/sentinel_pool.hpp). The small fields last and
  // together: a Request of 96 bytes makes a queue entry of 128, four to a block of the queue's deque
  // (at 104 bytes, three: a block allocated and freed a third more often).
  //
  // A request of several commands in several slots (a typed pipeline): each command's slot in order,
  // nullopt for a keyless one. A cluster groups the commands by it, not by keys read from the bytes.
  std::shared_ptr<const std::vector<std::optional<std::uint16_t>>> command_slots;
  // The hash slot of its keys, when its sender computed it (a typed command on a cluster): a cluster
  // then routes it without reading its keys back from the bytes.
  std::optional<std::uint16_t> key_slot;
  // Its sender knows it names no key (a typed PING, PUBLISH, SCAN): a cluster sends it to any master
  // without reading the bytes for keys.
  bool keyless = false;
  // Its sender knows it only reads (a typed read, or a pipeline of nothing else): with
  // redis.read_from, a replica may answer it. Anything else goes to the master.
  bool read_only = false;

  std::string_view wire_bytes() const { return lent_bytes.empty() ? std::string_view(bytes) : lent_bytes; }
};

class RequestQueue {
 public:
  // Offered a request answered with an error reply or an array, before it completes: returns true
  // when it took the request (a cluster follows MOVED and ASK: the request is sent again elsewhere,
  // and completes there). Requests answered otherwise complete at once, unasked.
  using TakeBack = std::function<bool(Request& request, Result& result)>;

  RequestQueue() = default;
  explicit RequestQueue(TakeBack take_back) : take_back_(std::move(take_back)) {}

  void push(Request&& request);
  // Ahead of everything not yet written (a connection's handshake goes before queued commands).
  void push_front_unwritten(Request&& request);

  bool has_unwritten() const { return first_unwritten_ < entries_.size(); }
  // The bytes of every request not yet written, concatenated into `out` (replacing what it held but
  // keeping its capacity: one buffer serves every write); they now count as written at `now`.
  void take_unwritten(Clock::time_point now, std::string& out);

  // Completes the oldest written request once all its replies are in. Returns false when no written
  // request expects a reply (the server sent something unasked for: a protocol error).
  bool on_reply(Reply&& reply);

  // Completes every request: those written with `failure`, those never written as unavailable
  // (nothing was sent: their outcome is known). The queue is empty afterwards.
  void fail_all(Failure failure, const std::string& detail);

  std::size_t size() const { return entries_.size(); }
  std::size_t awaiting_replies() const { return first_unwritten_; }
  bool empty() const { return entries_.empty(); }
  // When the oldest request still waiting for a reply was written: the deadline runs from here.
  std::optional<Clock::time_point> oldest_written() const;

 private:
  struct Entry {
    explicit Entry(Request&& queued) : request(std::move(queued)) {}  // built in place: one move
    Request request;
    std::vector<Reply> replies;
    Clock::time_point written_at{};
  };
  static_assert(sizeof(Entry) <= 128, "four entries to a deque block: keep Request's small fields together");
  void complete_front(Result&& result);
  void offer_front(Result&& result);
  void complete_fire_and_forget();

  TakeBack take_back_;
  std::deque<Entry, Recycled<Entry>> entries_;  // its blocks kept for the next requests on this thread
  std::size_t first_unwritten_ = 0;  // entries_[0, first_unwritten_) are written
};

}  // namespace routemq::redis
