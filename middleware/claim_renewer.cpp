#include "middleware/claim_renewer.hpp"

#include <algorithm>
#include <optional>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace routemq::middleware {

using Clock = std::chrono::steady_clock;

struct ClaimRenewer::State {
  struct Entry {
    const redis::DedupeStore* store;  // both alive while the entry is: its Held removes it first
    const redis::DedupeStore::Claim* claim;
    Clock::time_point since;
  };
  // The loop's wait, on a strand of its own so that the last Held can cancel it from any thread (an
  // idle loop ends at once instead of sleeping out its period, which would hold an app's shutdown up).
  struct Loop {
    explicit Loop(asio::io_context& io) : strand(asio::make_strand(io)), timer(strand) {}
    asio::strand<asio::io_context::executor_type> strand;
    asio::steady_timer timer;
  };

  std::chrono::milliseconds period;
  std::mutex mutex;
  std::map<std::uint64_t, Entry> held;
  std::uint64_t next_id = 0;
  std::shared_ptr<Loop> loop;  // while one runs
};

namespace {

// Every period: extends the claims held longer than a period; ends when none is held.
awaitable<void> renew_while_held(std::shared_ptr<ClaimRenewer::State> state,
                                 std::shared_ptr<ClaimRenewer::State::Loop> loop) {
  while (true) {
    loop->timer.expires_after(state->period);
    boost::system::error_code cancelled;
    co_await loop->timer.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
    std::lock_guard lock(state->mutex);
    if (state->held.empty()) {  // decided under the lock: a hold() now starts a new loop
      state->loop.reset();
      co_return;
    }
    const auto now = Clock::now();
    for (const auto& [id, entry] : state->held)
      if (now - entry.since >= state->period) entry.store->extend_in_background(*entry.claim);
  }
}

}  // namespace

ClaimRenewer::ClaimRenewer(std::chrono::milliseconds lease) : state_(std::make_shared<State>()) {
  state_->period = std::max(lease / 3, std::chrono::milliseconds(1));
}

ClaimRenewer::Held ClaimRenewer::hold(const redis::DedupeStore& store, const redis::DedupeStore::Claim& claim) {
  std::lock_guard lock(state_->mutex);
  const auto id = state_->next_id++;
  state_->held.emplace(id, State::Entry{&store, &claim, Clock::now()});
  if (!state_->loop) {
    state_->loop = std::make_shared<State::Loop>(store.io_context());
    asio::co_spawn(state_->loop->strand, renew_while_held(state_, state_->loop), asio::detached);
  }
  return Held(state_, id);
}

ClaimRenewer::Held::~Held() {
  std::lock_guard lock(state_->mutex);
  state_->held.erase(id_);
  if (state_->held.empty() && state_->loop)
    asio::post(state_->loop->strand, [loop = state_->loop] { loop->timer.cancel(); });
}

}  // namespace routemq::middleware
