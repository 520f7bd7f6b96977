#pragma once
// Requests handed from any thread to a strand in bursts: the first put of a burst says so (its
// caller posts one drain), and the drain takes everything put meanwhile. The two vectors swap and
// keep their capacity, so a steady load allocates nothing here and moves each request once.
#include <atomic>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace routemq::redis {

// The inbox's lock, held for a push_back or a swap: taken with one atomic exchange and released
// with a plain store, both inline. std::mutex cost two locked read-modify-writes and two calls per
// request: 8.6% of the client's cycles in the cluster GET benchmark (perf, pthread_mutex_lock and
// unlock). Found held, its holder is mid-swap or was preempted: yield at once rather than spin (on
// two cores the holder may need this very core).
class InboxLock {
 public:
  void lock() {
    while (held_.exchange(true, std::memory_order_acquire))
      while (held_.load(std::memory_order_relaxed)) std::this_thread::yield();
  }
  void unlock() { held_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> held_{false};
};

template <class T>
class Inbox {
 public:
  // Any thread. True when the inbox was empty: the caller posts the drain.
  bool put(T&& item) {
    std::lock_guard guard(lock_);
    const bool first = waiting_.empty();
    waiting_.push_back(std::move(item));
    return first;
  }

  // On the strand: everything put since the last take, in order (valid until the next take).
  std::vector<T>& take() {
    taken_.clear();
    std::lock_guard guard(lock_);
    taken_.swap(waiting_);
    return taken_;
  }

 private:
  InboxLock lock_;
  std::vector<T> waiting_;
  std::vector<T> taken_;  // the strand's
};

}  // namespace routemq::redis
