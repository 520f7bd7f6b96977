#pragma once
// Messages handlers publish, handed to one sending thread of their own, so a handler never waits on
// the MQTT library.
//
// Why: Paho C holds a lock of its own while our message callback runs, and that callback waits when
// the app already has max_in_flight messages. A handler publishing straight into Paho at that moment
// waits for the same lock, never finishes, never frees a slot: the app deadlocks under load (seen
// with bench_e2e). Through this queue, handlers finish, slots free up, the callback returns, and the
// sender gets the lock.
//
//   OutboundQueue queue(100000, [&](OutboundMessage m) { paho_publish(std::move(m)); });
//   queue.push(message);                   // any thread; never blocks on sending
//   queue.close(std::chrono::seconds(2));  // sends what is queued (bounded), then stops
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/handling/message.hpp"

namespace routemq {

class OutboundQueue {
 public:
  using Send = std::function<void(OutboundMessage)>;  // runs on the sending thread only

  // At most `capacity` messages wait: memory stays bounded while the broker is away.
  OutboundQueue(std::size_t capacity, Send send);
  ~OutboundQueue() { close(std::chrono::seconds(2)); }
  OutboundQueue(const OutboundQueue&) = delete;
  OutboundQueue& operator=(const OutboundQueue&) = delete;

  // Queues `message`; false (and counted as dropped) when the queue is full or closed.
  bool push(OutboundMessage message);
  // Sends what is queued, for at most `deadline`, then stops the thread; what is left is dropped,
  // counted, and returned (0 on a second call).
  std::uint64_t close(std::chrono::milliseconds deadline);

  std::size_t queued() const;
  std::uint64_t dropped() const;  // refused pushes and what close() left unsent

 private:
  void send_until_closed();

  std::size_t capacity_;
  Send send_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<OutboundMessage> queue_;
  bool closing_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  std::uint64_t dropped_ = 0;
  std::uint64_t unsent_at_close_ = 0;
  std::thread sender_;  // last: starts after everything it uses exists
};

}  // namespace routemq
