#include "plugins/redis/sentinel/sentinel_fsm.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "plugins/redis/connection/connection_fsm.hpp"

namespace routemq::redis {
namespace {

SentinelAction sentinel_action(SentinelAction::Kind kind, std::string text = {}) {
  SentinelAction action;
  action.kind = kind;
  action.text = std::move(text);
  return action;
}

}  // namespace

SentinelFsm::SentinelFsm(std::string master_name, std::vector<NodeAddress> sentinels, std::chrono::milliseconds retry_min,
                         std::chrono::milliseconds retry_max)
    : master_name_(std::move(master_name)),
      sentinels_(std::move(sentinels)),
      retry_min_(retry_min),
      retry_max_(retry_max) {}

SentinelActions SentinelFsm::start() {
  SentinelActions out;
  if (phase_ != Phase::stopped) return out;
  phase_ = Phase::settled;
  resolve(out);
  return out;
}

// Questions and retries in flight are stale from here on.
SentinelActions SentinelFsm::stop() {
  phase_ = Phase::stopped;
  ++question_;
  ++retry_ticket_;
  return {};
}

void SentinelFsm::resolve(SentinelActions& out) {
  if (phase_ == Phase::stopped || phase_ == Phase::resolving) return;
  phase_ = Phase::resolving;
  round_ = {};
  ++retry_ticket_;  // a retry scheduled before is not needed any more
  if (std::exchange(answer_doubted_, false)) first_to_ask_ = answered_by_ + 1;
  ask_next(out);
}

void SentinelFsm::ask_next(SentinelActions& out) {
  if (round_.asked >= sentinels_.size()) return give_up_round(out);
  asking_ = (first_to_ask_ + round_.asked) % sentinels_.size();
  auto ask = sentinel_action(SentinelAction::Kind::ask);
  ask.ticket = ++question_;
  ask.index = asking_;
  ask.address = sentinels_[asking_];
  out.push_back(std::move(ask));
}

// No Sentinel answered: again after a backoff, until one does. Signs meanwhile wait for that retry,
// so that connections all failing against dead Sentinels do not start a round each (no storm).
void SentinelFsm::give_up_round(SentinelActions& out) {
  phase_ = Phase::waiting;
  auto problem = fmt::format("none of {} Sentinel(s) named a master for '{}' ({})", sentinels_.size(), master_name_,
                             fmt::join(round_.problems, "; "));
  if (problem != problem_) out.push_back(sentinel_action(SentinelAction::Kind::log_warn, "Sentinel: " + problem));
  problem_ = problem;
  out.push_back(sentinel_action(SentinelAction::Kind::problem, std::move(problem)));
  auto retry = sentinel_action(SentinelAction::Kind::schedule_retry);
  retry.ticket = ++retry_ticket_;
  retry.delay = backoff_delay(retry_attempts_++, retry_min_, retry_max_, 0.0);
  out.push_back(std::move(retry));
}

SentinelActions SentinelFsm::answered(int ticket, const SentinelAnswer& answer) {
  SentinelActions out;
  if (phase_ != Phase::resolving || ticket != question_) return out;
  if (!answer.master) {
    round_.problems.push_back(sentinels_[asking_].text() + ": " + answer.problem);
    ++round_.asked;
    ask_next(out);
    return out;
  }
  settle(*answer.master, answer.sentinels, out);
  return out;
}

void SentinelFsm::settle(const NodeAddress& master, const std::vector<NodeAddress>& peers, SentinelActions& out) {
  const auto source = "Sentinel " + sentinels_[asking_].text();
  answered_by_ = asking_;
  phase_ = Phase::settled;
  retry_attempts_ = 0;
  learn(peers, out);
  adopt(master, source, out);
  out.push_back(sentinel_action(SentinelAction::Kind::watch));
  if (still_in_doubt(master)) resolve(out);
}

// After a round's answer: whether a sign that came in during the round doubts it. Two connections
// to a replica a stale Sentinel named both say so; the first sign's round finds the real master,
// and the second, about the replica left behind, must not start another round that could ask the
// stale Sentinel again and swing back to the replica (seen under ThreadSanitizer's timing).
bool SentinelFsm::still_in_doubt(const NodeAddress& answer) {
  const auto suspected = std::exchange(round_.suspected, {});
  const bool doubted_anyway = std::exchange(round_.doubted, false);
  if (!doubted_anyway && suspected.empty()) return false;  // no sign came in during the round
  const bool doubted = doubted_anyway || std::find(suspected.begin(), suspected.end(), answer) != suspected.end();
  if (!doubted) answer_doubted_ = false;  // the doubts were about addresses this answer left behind
  return doubted;
}

void SentinelFsm::learn(const std::vector<NodeAddress>& found, SentinelActions& out) {
  const auto known = sentinels_.size();
  for (const auto& sentinel : found)
    if (std::find(sentinels_.begin(), sentinels_.end(), sentinel) == sentinels_.end()) sentinels_.push_back(sentinel);
  if (sentinels_.size() == known) return;
  auto learned = sentinel_action(SentinelAction::Kind::learned);
  learned.sentinels = sentinels_;
  out.push_back(std::move(learned));
}

void SentinelFsm::adopt(const NodeAddress& master, const std::string& source, SentinelActions& out) {
  const auto before = std::exchange(master_, master);
  problem_.clear();
  const bool moved = before != master;
  auto adopt = sentinel_action(SentinelAction::Kind::adopt, source);
  adopt.address = master;
  adopt.moved = moved;
  out.push_back(std::move(adopt));
  if (!moved) return;
  if (before)
    out.push_back(sentinel_action(SentinelAction::Kind::log_warn,
                                  fmt::format("Sentinel: the master of '{}' moved from {} to {} ({}): following it",
                                              master_name_, before->text(), master.text(), source)));
  else
    out.push_back(sentinel_action(SentinelAction::Kind::log_info,
                                  fmt::format("Sentinel: the master of '{}' is {} ({})", master_name_, master.text(), source)));
}

// About the master known now: that answer is in doubt, ask again starting after the Sentinel that
// gave it. About an address already left behind: nothing to doubt (its connection follows the
// current master by itself). From no address: just ask.
SentinelActions SentinelFsm::sign(const NodeAddress& at, const std::string& why) {
  SentinelActions out;
  if (phase_ == Phase::stopped) return out;
  const bool from_an_address = !at.host.empty();
  if (master_ && from_an_address && at != *master_) return out;
  out.push_back(sentinel_action(SentinelAction::Kind::log_debug,
                                fmt::format("Sentinel: asking again for '{}': {}", master_name_, why)));
  if (master_ && from_an_address) answer_doubted_ = true;
  if (phase_ == Phase::resolving) {
    remember(at);
    return out;
  }
  if (phase_ != Phase::waiting) resolve(out);  // waiting: the backoff's retry asks
  return out;
}

void SentinelFsm::remember(const NodeAddress& at) {
  if (at.host.empty())
    round_.doubted = true;
  else
    round_.suspected.push_back(at);
}

SentinelActions SentinelFsm::switched(const NodeAddress& master, const std::string& source) {
  SentinelActions out;
  if (phase_ != Phase::stopped) adopt(master, source, out);
  return out;
}

SentinelActions SentinelFsm::retry_due(int ticket) {
  SentinelActions out;
  if (phase_ == Phase::waiting && ticket == retry_ticket_) resolve(out);
  return out;
}

}  // namespace routemq::redis
