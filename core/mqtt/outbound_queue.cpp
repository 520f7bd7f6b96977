#include "core/mqtt/outbound_queue.hpp"

namespace routemq {

OutboundQueue::OutboundQueue(std::size_t capacity, Send send)
    : capacity_(capacity), send_(std::move(send)), sender_([this] { send_until_closed(); }) {}

bool OutboundQueue::push(OutboundMessage message) {
  {
    std::lock_guard lock(mutex_);
    if (closing_ || queue_.size() >= capacity_) {
      ++dropped_;
      return false;
    }
    queue_.push_back(std::move(message));
  }
  changed_.notify_one();
  return true;
}

std::uint64_t OutboundQueue::close(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return 0;
    closing_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() + deadline;
  }
  changed_.notify_one();
  if (sender_.joinable()) sender_.join();
  std::lock_guard lock(mutex_);
  return unsent_at_close_;
}

std::size_t OutboundQueue::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::uint64_t OutboundQueue::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

// Takes everything queued at once (one lock per burst, not per message) and sends it without the lock.
void OutboundQueue::send_until_closed() {
  std::deque<OutboundMessage> batch;
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return closing_ || !queue_.empty(); });
    if (closing_ && (queue_.empty() || std::chrono::steady_clock::now() >= drain_deadline_)) {
      unsent_at_close_ = queue_.size();
      dropped_ += queue_.size();
      queue_.clear();
      return;
    }
    batch.swap(queue_);
    lock.unlock();
    for (auto& message : batch) send_(std::move(message));
    batch.clear();
    lock.lock();
  }
}

}  // namespace routemq
