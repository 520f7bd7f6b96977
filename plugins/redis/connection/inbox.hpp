#pragma once
// Requests handed from any thread to a strand in bursts: the first put of a burst says so (its
// caller posts one drain), and the drain takes everything put meanwhile. The two vectors swap and
// keep their capacity, so a steady load allocates nothing here and moves each request once.
#include <mutex>
#include <utility>
#include <vector>

namespace routemq::redis {

template <class T>
class Inbox {
 public:
  // Any thread. True when the inbox was empty: the caller posts the drain.
  bool put(T&& item) {
    std::lock_guard lock(mutex_);
    const bool first = waiting_.empty();
    waiting_.push_back(std::move(item));
    return first;
  }

  // On the strand: everything put since the last take, in order (valid until the next take).
  std::vector<T>& take() {
    taken_.clear();
    std::lock_guard lock(mutex_);
    taken_.swap(waiting_);
    return taken_;
  }

 private:
  std::mutex mutex_;
  std::vector<T> waiting_;
  std::vector<T> taken_;  // the strand's
};

}  // namespace routemq::redis
