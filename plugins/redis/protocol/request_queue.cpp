#include "plugins/redis/protocol/request_queue.hpp"

namespace routemq::redis {

void RequestQueue::push(Request request) { entries_.push_back(Entry{std::move(request), {}, {}}); }

void RequestQueue::push_front_unwritten(Request request) {
  entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(first_unwritten_), Entry{std::move(request), {}, {}});
}

// Written requests that expect no reply are done; they must not hold up the FIFO.
void RequestQueue::complete_fire_and_forget() {
  while (first_unwritten_ > 0 && entries_.front().request.replies == 0) complete_front();
}

std::string RequestQueue::take_unwritten(Clock::time_point now) {
  std::string bytes;
  for (; first_unwritten_ < entries_.size(); ++first_unwritten_) {
    auto& entry = entries_[first_unwritten_];
    bytes += entry.request.bytes;
    entry.written_at = now;
  }
  complete_fire_and_forget();
  return bytes;
}

bool RequestQueue::on_reply(Reply reply) {
  if (first_unwritten_ == 0) return false;
  auto& front = entries_.front();
  front.replies.push_back(std::move(reply));
  if (front.replies.size() == front.request.replies) {
    complete_front();
    complete_fire_and_forget();
  }
  return true;
}

void RequestQueue::complete_front() {
  Entry entry = std::move(entries_.front());
  entries_.pop_front();
  --first_unwritten_;
  // Completed after the queue is consistent: the callback may push new requests.
  if (!entry.request.done) return;
  if (entry.request.replies == 0)
    entry.request.done(Result::success(Reply::nil()));
  else if (entry.request.replies == 1)
    entry.request.done(Result::success(std::move(entry.replies.front())));
  else
    entry.request.done(Result::success(Reply::array(std::move(entry.replies))));
}

void RequestQueue::fail_all(Failure failure, const std::string& detail) {
  std::deque<Entry> failed;
  failed.swap(entries_);
  first_unwritten_ = 0;
  for (auto& entry : failed)
    if (entry.request.done) entry.request.done(Result::failed(failure, detail));
}

std::optional<Clock::time_point> RequestQueue::oldest_written() const {
  if (first_unwritten_ == 0) return std::nullopt;
  return entries_.front().written_at;
}

}  // namespace routemq::redis
