#pragma once
// Backpressure between the MQTT library's thread and the handlers: at most `capacity` messages are being
// handled at once. When full, the MQTT thread waits for a free slot (not for I/O), so the broker's TCP
// connection stops being read and the broker holds further messages back.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>

namespace routemq {

class InFlightLimit {
 public:
  explicit InFlightLimit(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Waits for a slot. Returns false (without a slot) once closed.
  bool acquire() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return closed_ || in_flight_ < capacity_; });
    if (closed_) return false;
    ++in_flight_;
    return true;
  }

  void release() {
    {
      std::lock_guard lock(mutex_);
      --in_flight_;
    }
    changed_.notify_all();
  }

  // Waits until nothing is in flight, or the deadline passes. Returns whether it drained.
  bool wait_idle(std::chrono::steady_clock::duration timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return in_flight_ == 0; });
  }

  // Refuses every further acquire and wakes anyone waiting for a slot.
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
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t in_flight_ = 0;
  bool closed_ = false;
};

// One acquired slot, released when the message it belongs to is done, however that ends. Moves with
// the message (into an ordering queue and out of it).
class InFlightSlot {
 public:
  explicit InFlightSlot(InFlightLimit& limit) : limit_(&limit) {}
  ~InFlightSlot() {
    if (limit_) limit_->release();
  }
  InFlightSlot(InFlightSlot&& other) noexcept : limit_(std::exchange(other.limit_, nullptr)) {}
  InFlightSlot& operator=(InFlightSlot&& other) noexcept {
    if (this != &other) {
      if (limit_) limit_->release();
      limit_ = std::exchange(other.limit_, nullptr);
    }
    return *this;
  }
  InFlightSlot(const InFlightSlot&) = delete;
  InFlightSlot& operator=(const InFlightSlot&) = delete;

 private:
  InFlightLimit* limit_;
};

}  // namespace routemq
