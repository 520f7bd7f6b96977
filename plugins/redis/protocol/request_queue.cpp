#include "plugins/redis/protocol/request_queue.hpp"

#include "plugins/redis/recycled.hpp"

namespace routemq::redis {

void RequestQueue::push(Request&& request) { entries_.emplace_back(std::move(request)); }

void RequestQueue::push_front_unwritten(Request&& request) {
  entries_.emplace(entries_.begin() + static_cast<std::ptrdiff_t>(first_unwritten_), std::move(request));
}

// Written requests that expect no reply are done; they must not hold up the FIFO.
void RequestQueue::complete_fire_and_forget() {
  while (first_unwritten_ > 0 && entries_.front().request.replies == 0) complete_front(Result::success(Reply::nil()));
}

void RequestQueue::take_unwritten(Clock::time_point now, std::string& out) {
  out.clear();
  std::size_t size = 0;
  for (std::size_t i = first_unwritten_; i < entries_.size(); ++i) size += entries_[i].request.wire_bytes().size();
  out.reserve(size);
  for (; first_unwritten_ < entries_.size(); ++first_unwritten_) {
    auto& entry = entries_[first_unwritten_];
    out += entry.request.wire_bytes();
    entry.written_at = now;
  }
  complete_fire_and_forget();
}

bool RequestQueue::on_reply(Reply&& reply) {
  if (first_unwritten_ == 0) return false;
  auto& front = entries_.front();
  if (front.request.replies == 1) {  // most requests: no list of replies to gather
    complete_front(Result::success(std::move(reply)));
  } else {
    front.replies.push_back(std::move(reply));
    if (front.replies.size() < front.request.replies) return true;
    complete_front(Result::success(Reply::array(std::move(front.replies))));
  }
  complete_fire_and_forget();
  return true;
}

void RequestQueue::complete_front(Result&& result) {
  const auto& reply = result.reply;
  if (take_back_ && result.ok() && (reply.is_error() || reply.is_array())) return offer_front(std::move(result));
  Completion completion = std::move(entries_.front().request.completion);
  RecycledBytes::give(std::move(entries_.front().request.bytes));  // for a later command's encoding
  entries_.pop_front();
  --first_unwritten_;
  // Completed after the queue is consistent: the callback may push new requests.
  if (completion) completion(std::move(result));
}

// The rare reply the sender may want back: the request leaves the queue whole, first (the sender
// may push it again, here or elsewhere), and completes unless taken.
void RequestQueue::offer_front(Result&& result) {
  Request request = std::move(entries_.front().request);
  entries_.pop_front();
  --first_unwritten_;
  if (take_back_(request, result)) return;
  RecycledBytes::give(std::move(request.bytes));
  if (request.completion) request.completion(std::move(result));
}

void RequestQueue::fail_all(Failure failure, const std::string& detail) {
  std::deque<Entry, Recycled<Entry>> failed;
  failed.swap(entries_);
  const std::size_t written = std::exchange(first_unwritten_, 0);
  for (std::size_t i = 0; i < failed.size(); ++i) {
    auto& completion = failed[i].request.completion;
    if (!completion) continue;
    completion(Result::failed(i < written ? failure : Failure::unavailable,
                              i < written ? detail : "not sent: " + detail));
  }
}

std::optional<Clock::time_point> RequestQueue::oldest_written() const {
  if (first_unwritten_ == 0) return std::nullopt;
  return entries_.front().written_at;
}

}  // namespace routemq::redis
