#include "plugins/redis/recipes/write_behind.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <unordered_map>

#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/recipes/codec_values.hpp"

namespace routemq::redis {

// The queue is under `mutex` (put() runs on any thread); the timers and `finished` belong to the strand.
struct WriteBehindState {
  WriteBehindState(std::shared_ptr<RedisManager> cache, asio::any_io_executor executor, WriteBehindOptions settings,
        BatchWriter writer)
      : redis(std::move(cache)),
        strand(asio::make_strand(executor)),
        options(settings),
        write_batch(std::move(writer)),
        wake(strand),
        retry(strand),
        stopped(strand) {
    stopped.expires_at(asio::steady_timer::time_point::max());
  }

  std::shared_ptr<RedisManager> redis;
  asio::strand<asio::any_io_executor> strand;
  WriteBehindOptions options;
  BatchWriter write_batch;
  WriteBehindStats stats;

  mutable std::mutex mutex;
  std::deque<std::string> order;                          // keys, oldest first
  std::unordered_map<std::string, nlohmann::json> values;  // the latest value of each queued key
  bool closing = false;                                    // under mutex

  asio::steady_timer wake;     // the flusher's sleep; cancelled when a batch is full or on drain()
  asio::steady_timer retry;    // the pause before writing a failed batch again
  asio::steady_timer stopped;  // cancelled when the flusher has finished
  bool finished = false;       // strand only

  std::size_t queued() const {
    std::lock_guard lock(mutex);
    return order.size();
  }

  std::vector<PendingWrite> take_batch() {
    std::lock_guard lock(mutex);
    std::vector<PendingWrite> batch;
    while (!order.empty() && batch.size() < options.batch_size) {
      auto node = values.extract(order.front());
      order.pop_front();
      batch.push_back({std::move(node.key()), std::move(node.mapped())});
    }
    return batch;
  }

  bool is_closing() const {
    std::lock_guard lock(mutex);
    return closing;
  }
};

namespace {

using SharedState = std::shared_ptr<WriteBehindState>;

awaitable<void> sleep_on(asio::steady_timer& timer, std::chrono::milliseconds duration) {
  timer.expires_after(duration);
  boost::system::error_code cancelled;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
}

std::string key_list(const std::vector<PendingWrite>& batch) {
  std::string keys;
  for (std::size_t i = 0; i < batch.size() && i < 10; ++i) keys += (i ? ", " : "") + batch[i].key;
  if (batch.size() > 10) keys += fmt::format(" and {} more", batch.size() - 10);
  return keys;
}

// Tries the writer up to max_attempts times, pausing `interval` between tries; then drops the batch.
awaitable<void> write_with_retries(SharedState state, std::vector<PendingWrite> batch) {
  std::string failure;
  for (int attempt = 1; attempt <= state->options.max_attempts; ++attempt) {
    try {
      co_await state->write_batch(batch);
      state->stats.written += batch.size();
      ++state->stats.batches;
      co_return;
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    ++state->stats.failures;
    spdlog::warn("redis: write-behind: writing {} key(s) failed (attempt {} of {}): {}", batch.size(), attempt,
                 state->options.max_attempts, failure);
    if (attempt < state->options.max_attempts) co_await sleep_on(state->retry, state->options.interval);
  }
  state->stats.dropped += batch.size();
  spdlog::error("redis: write-behind: dropped {} write(s) after {} attempts ({}): {}", batch.size(),
                state->options.max_attempts, failure, key_list(batch));
}

// Sleeps until a batch is full or `interval` passes, writes what is pending, and ends once drain()
// (or the destructor) has asked and nothing is left.
awaitable<void> flush_loop(SharedState state) {
  for (;;) {
    const bool closing = state->is_closing();
    if (!closing && state->queued() < state->options.batch_size) co_await sleep_on(state->wake, state->options.interval);
    auto batch = state->take_batch();
    if (batch.empty()) {
      if (closing) break;
      continue;
    }
    co_await write_with_retries(state, std::move(batch));
  }
  state->finished = true;
  state->stopped.cancel();
}

}  // namespace

WriteBehind::WriteBehind(const RedisManager& redis, asio::any_io_executor executor, WriteBehindOptions options,
                         BatchWriter write_batch) {
  options.batch_size = std::max<std::size_t>(options.batch_size, 1);
  options.max_attempts = std::max(options.max_attempts, 1);
  state_ = std::make_shared<WriteBehindState>(redis.share(), std::move(executor), options, std::move(write_batch));
  asio::co_spawn(state_->strand, flush_loop(state_), asio::detached);
}

WriteBehind::~WriteBehind() {
  std::size_t lost = 0;
  {
    std::lock_guard lock(state_->mutex);
    state_->closing = true;
    lost = state_->order.size();
    state_->order.clear();
    state_->values.clear();
  }
  if (lost) spdlog::error("redis: write-behind destroyed without drain(): {} pending write(s) lost", lost);
  asio::post(state_->strand, [state = state_] { state->wake.cancel(); });
}

awaitable<PutResult> WriteBehind::put(std::string_view key, nlohmann::json value, std::optional<std::chrono::seconds> ttl,
                                      std::vector<std::string> tags) {
  PutResult out;
  bool batch_full = false;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->closing) {
      out.error = "write-behind is draining: not accepted";
    } else if (auto queued = state_->values.find(std::string(key)); queued != state_->values.end()) {
      queued->second = value;
      ++state_->stats.coalesced;
      out.stored = true;
    } else if (state_->order.size() >= state_->options.max_pending) {
      out.error = fmt::format("write-behind queue full ({} keys pending): not accepted", state_->order.size());
    } else {
      state_->order.emplace_back(key);
      state_->values.emplace(std::string(key), value);
      out.stored = true;
      batch_full = state_->order.size() >= state_->options.batch_size;
    }
  }
  if (!out.stored) {
    ++state_->stats.refused;
    co_return out;
  }
  ++state_->stats.accepted;
  if (batch_full) asio::post(state_->strand, [state = state_] { state->wake.cancel(); });
  out.cached = co_await CodecValues(*state_->redis).set(key, value, ttl, std::move(tags));
  if (!out.cached) out.error = fmt::format("'{}' queued for the store; the cache did not take it", key);
  co_return out;
}

awaitable<void> WriteBehind::drain() {
  auto wait_for_flusher = [state = state_]() -> awaitable<void> {
    {
      std::lock_guard lock(state->mutex);
      state->closing = true;
    }
    state->wake.cancel();
    if (!state->finished) {
      boost::system::error_code cancelled;
      co_await state->stopped.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
    }
  };
  co_await asio::co_spawn(state_->strand, std::move(wait_for_flusher), asio::use_awaitable);
}

std::size_t WriteBehind::pending() const { return state_->queued(); }
const WriteBehindStats& WriteBehind::stats() const { return state_->stats; }

}  // namespace routemq::redis
