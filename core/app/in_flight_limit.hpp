#pragma once
// Backpressure between the broker and the handlers: at most `capacity` messages, and about
// `max_bytes` of their payloads, are being handled at once.
//
// Two ways in. acquire() waits for room (Paho's receive thread, in-process delivery): while it waits,
// the broker's connection is not read and the broker holds further messages back. admit() takes room
// at once: the native client bounds what it hands over itself (its Receive Maximum and its pause in
// reading, session.hpp), and must never block the io_context's thread it runs on.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>

namespace routemq {

class InFlightLimit {
 public:
  InFlightLimit(std::size_t capacity, std::size_t max_bytes)
      : capacity_(capacity == 0 ? 1 : capacity), max_bytes_(max_bytes) {}

  // Waits for room for a message of `bytes`. One message is always let in when none is in flight,
  // however large (refusing it would stall for ever). Returns false (without room) once closed.
  bool acquire(std::size_t bytes) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return closed_ || has_room(bytes); });
    if (closed_) return false;
    take(bytes);
    return true;
  }

  // Takes room without waiting; false once closed.
  bool admit(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    take(bytes);
    return true;
  }

  void release(std::size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      --in_flight_;
      bytes_ -= bytes;
    }
    changed_.notify_all();
  }

  // Waits until nothing is in flight, or the deadline passes. Returns whether it drained.
  bool wait_idle(std::chrono::steady_clock::duration timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return in_flight_ == 0; });
  }

  // Refuses every further acquire and wakes anyone waiting for room.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    changed_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  std::size_t in_flight() const {
    std::lock_guard lock(mutex_);
    return in_flight_;
  }
  std::size_t in_flight_bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }
  std::size_t capacity() const { return capacity_; }

 private:
  bool has_room(std::size_t bytes) const {
    return in_flight_ == 0 || (in_flight_ < capacity_ && bytes_ + bytes <= max_bytes_);
  }
  void take(std::size_t bytes) {
    ++in_flight_;
    bytes_ += bytes;
  }

  const std::size_t capacity_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t in_flight_ = 0;
  std::size_t bytes_ = 0;
  bool closed_ = false;
};

// The room one message took, given back when the message is done, however that ends. Moves with the
// message (into an ordering queue and out of it).
class InFlightSlot {
 public:
  InFlightSlot(InFlightLimit& limit, std::size_t bytes) : limit_(&limit), bytes_(bytes) {}
  ~InFlightSlot() {
    if (limit_) limit_->release(bytes_);
  }
  InFlightSlot(InFlightSlot&& other) noexcept : limit_(std::exchange(other.limit_, nullptr)), bytes_(other.bytes_) {}
  InFlightSlot& operator=(InFlightSlot&& other) noexcept {
    if (this != &other) {
      if (limit_) limit_->release(bytes_);
      limit_ = std::exchange(other.limit_, nullptr);
      bytes_ = other.bytes_;
    }
    return *this;
  }
  InFlightSlot(const InFlightSlot&) = delete;
  InFlightSlot& operator=(const InFlightSlot&) = delete;

 private:
  InFlightLimit* limit_;
  std::size_t bytes_;
};

}  // namespace routemq
