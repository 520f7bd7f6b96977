#include "plugins/redis/sentinel/master_locator.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/connection/connection.hpp"
#include "plugins/redis/protocol/encoder.hpp"

namespace routemq::redis {

std::shared_ptr<MasterLocator> MasterLocator::create(asio::any_io_executor executor, SentinelSettings settings) {
  return std::shared_ptr<MasterLocator>(new MasterLocator(std::move(executor), std::move(settings)));
}

MasterLocator::MasterLocator(asio::any_io_executor executor, SentinelSettings settings)
    : executor_(std::move(executor)), settings_(std::move(settings)), retry_timer_(executor_) {
  sentinels_ = settings_.nodes;
  problem_ = "the Sentinels were not asked yet";
}

MasterLocator::~MasterLocator() {
  if (query_) query_->stop();
  if (watch_) watch_->stop();
}

void MasterLocator::start() {
  asio::post(executor_, [self = shared_from_this()] {
    self->stopped_ = false;
    self->resolve();
  });
}

void MasterLocator::stop() {
  asio::post(executor_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->retry_timer_.cancel();
    if (self->query_) self->query_->stop();
    if (self->watch_) self->watch_->stop();
    self->query_.reset();
    self->watch_.reset();
  });
}

std::optional<NodeAddress> MasterLocator::master() const {
  std::lock_guard lock(mutex_);
  return master_;
}

std::vector<NodeAddress> MasterLocator::sentinels() const {
  std::lock_guard lock(mutex_);
  return sentinels_;
}

std::string MasterLocator::problem() const {
  std::lock_guard lock(mutex_);
  return problem_;
}

void MasterLocator::set_problem(std::string problem) {
  std::lock_guard lock(mutex_);
  problem_ = std::move(problem);
}

std::shared_ptr<const MasterLookup> MasterLocator::lookup() {
  std::weak_ptr<MasterLocator> weak = weak_from_this();
  auto lookup = std::make_shared<MasterLookup>();
  lookup->current = [weak]() -> std::optional<std::pair<std::string, int>> {
    auto self = weak.lock();
    if (!self) return std::nullopt;
    auto master = self->master();
    if (!master) return std::nullopt;
    return std::pair{master->host, master->port};
  };
  lookup->suspect = [weak](const std::pair<std::string, int>& at, const std::string& why) {
    if (auto self = weak.lock()) self->suspect(NodeAddress{at.first, at.second}, why);
  };
  lookup->why_unknown = [weak] {
    auto self = weak.lock();
    return self ? self->problem() : std::string("Sentinel is stopped");
  };
  lookup->reached = [weak](const std::pair<std::string, int>& at) {
    if (auto self = weak.lock()) self->reached(NodeAddress{at.first, at.second});
  };
  lookup->listen = [weak](std::function<bool()> on_move) {
    if (auto self = weak.lock()) {
      std::lock_guard lock(self->mutex_);
      self->followers_.push_back(std::move(on_move));
    }
  };
  return lookup;
}

// A sign from `at` that the master moved. About the master known now: that answer is in doubt, ask
// again starting after the Sentinel that gave it. About an address already left behind: nothing to
// doubt (its connection follows the current master by itself). From no address: just ask.
void MasterLocator::suspect(const NodeAddress& at, const std::string& why) {
  asio::post(executor_, [self = shared_from_this(), at, why] {
    if (self->stopped_) return;
    const auto current = self->master();
    if (current && !at.host.empty() && at != *current) return;
    spdlog::debug("redis: Sentinel: asking again for '{}': {}", self->settings_.master_name, why);
    if (current && !at.host.empty()) self->doubted_ = true;
    if (self->resolving_) {
      if (at.host.empty())
        self->doubted_while_resolving_ = true;
      else
        self->suspected_while_resolving_.push_back(at);
      return;
    }
    if (!self->retry_pending_) self->resolve();  // else the backoff's retry asks: no storm while all are down
  });
}

void MasterLocator::resolve() {
  if (stopped_ || resolving_) return;
  resolving_ = true;
  doubted_while_resolving_ = false;
  suspected_while_resolving_.clear();
  retry_pending_ = false;
  retry_timer_.cancel();
  if (std::exchange(doubted_, false)) first_to_ask_ = answered_by_ + 1;
  ask(0, {});
}

// Asks the Sentinels in turn, from first_to_ask_, one at a time: the first to name the master wins.
void MasterLocator::ask(std::size_t asked, std::vector<std::string> problems) {
  const auto known = sentinels();
  if (stopped_) return;
  if (asked >= known.size()) {
    resolving_ = false;
    auto problem = fmt::format("none of {} Sentinel(s) named a master for '{}' ({})", known.size(),
                               settings_.master_name, fmt::join(problems, "; "));
    if (problem != this->problem()) spdlog::warn("redis: Sentinel: {}", problem);  // once per new reason
    set_problem(std::move(problem));
    return retry_later();
  }
  const auto index = (first_to_ask_ + asked) % known.size();
  query_ = Connection::create(executor_, settings_for(known[index], false), sentinel_stats_);
  std::string question;
  append_command(question, {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", settings_.master_name});
  append_command(question, {"SENTINEL", "SENTINELS", settings_.master_name});
  // Weakly: the question sits in the connection's queue, which this locator holds.
  std::weak_ptr<MasterLocator> weak = weak_from_this();
  query_->push_on_io_thread({std::move(question), 2, [weak, asked, index, problems](Result result) mutable {
                               auto self = weak.lock();
                               if (self && !self->stopped_) self->answered(asked, index, result, std::move(problems));
                             }});
  query_->start();
}

// One Sentinel's two replies: the master's address (nil when it does not know the name), its peers.
void MasterLocator::answered(std::size_t asked, std::size_t index, const Result& result, std::vector<std::string> problems) {
  query_->stop();
  query_.reset();
  const auto sentinel = sentinels().at(index);
  const bool replied = result.ok() && result.reply.elements.size() == 2;
  const auto master = replied ? master_address_from(result.reply.elements[0]) : std::nullopt;
  if (!master) {
    problems.push_back(sentinel.text() + ": " + (replied ? result.reply.elements[0].describe() : result.error_text()));
    return ask(asked + 1, std::move(problems));
  }
  answered_by_ = index;
  resolving_ = false;
  retry_attempts_ = 0;
  learn(sentinel_addresses_from(result.reply.elements[1]));
  adopt(*master, "Sentinel " + sentinel.text());
  if (!watch_) watch();
  if (still_in_doubt(*master)) resolve();
}

// After a round's answer: whether a sign that came in during the round doubts it. Two connections
// to a replica a stale Sentinel named both say so; the first sign's round finds the real master,
// and the second, about the replica left behind, must not start another round that could ask the
// stale Sentinel again and swing back to the replica (seen under ThreadSanitizer's timing).
bool MasterLocator::still_in_doubt(const NodeAddress& answer) {
  const auto suspected = std::exchange(suspected_while_resolving_, {});
  const bool doubted_anyway = std::exchange(doubted_while_resolving_, false);
  if (!doubted_anyway && suspected.empty()) return false;  // no sign came in during the round
  const bool doubted = doubted_anyway || std::find(suspected.begin(), suspected.end(), answer) != suspected.end();
  if (!doubted) doubted_ = false;  // the doubts were about addresses this answer left behind
  return doubted;
}

void MasterLocator::adopt(const NodeAddress& master, const std::string& source) {
  std::optional<NodeAddress> before;
  {
    std::lock_guard lock(mutex_);
    before = master_;
    master_ = master;
    problem_.clear();
  }
  if (before == master) return;
  tell_followers();
  if (before) {
    spdlog::warn("redis: Sentinel: the master of '{}' moved from {} to {} ({}): following it", settings_.master_name,
                 before->text(), master.text(), source);
  } else {
    spdlog::info("redis: Sentinel: the master of '{}' is {} ({})", settings_.master_name, master.text(), source);
  }
}

// A failover is counted when the connections reach the new master, not when a Sentinel names it: a
// Sentinel that has not heard of the last failover yet names the old master, dead or demoted, and
// the connections come straight back; that detour is no move (it once counted two).
void MasterLocator::reached(const NodeAddress& at) {
  std::lock_guard lock(mutex_);
  if (reached_ && *reached_ != at) failovers_.fetch_add(1, std::memory_order_relaxed);
  reached_ = at;
}

// Every connection that listens moves now; those gone are dropped.
void MasterLocator::tell_followers() {
  std::vector<std::function<bool()>> followers;
  {
    std::lock_guard lock(mutex_);
    followers.swap(followers_);
  }
  std::erase_if(followers, [](auto& on_move) { return !on_move(); });
  std::lock_guard lock(mutex_);
  followers_.insert(followers_.end(), std::make_move_iterator(followers.begin()), std::make_move_iterator(followers.end()));
}

// Sentinels named by another are added after those known: the order of asking stays stable.
void MasterLocator::learn(const std::vector<NodeAddress>& found) {
  std::lock_guard lock(mutex_);
  for (const auto& sentinel : found)
    if (std::find(sentinels_.begin(), sentinels_.end(), sentinel) == sentinels_.end()) sentinels_.push_back(sentinel);
}

// No Sentinel answered: again after a backoff (the connections' reconnect delays), until one does.
void MasterLocator::retry_later() {
  retry_pending_ = true;
  const auto exponent = std::min(retry_attempts_++, 20);
  const auto& timers = settings_.connection;
  retry_timer_.expires_after(std::min<std::chrono::milliseconds>(timers.reconnect_max,
                                                                 timers.reconnect_min * (std::int64_t{1} << exponent)));
  retry_timer_.async_wait([weak = weak_from_this()](boost::system::error_code error) {
    auto self = weak.lock();
    if (!error && self) self->resolve();
  });
}

// +switch-master on one Sentinel: a failover is followed the moment Sentinel announces it. The
// watched Sentinel changes after two failed attempts in a row.
void MasterLocator::watch() {
  const auto known = sentinels();
  if (stopped_ || known.empty()) return;
  ConnectionEvents events;
  std::weak_ptr<MasterLocator> weak = weak_from_this();
  events.on_ready = [weak] {
    auto self = weak.lock();
    if (!self || !self->watch_) return;
    self->watch_failures_ = 0;
    self->watch_->push_on_io_thread({encode_command({"SUBSCRIBE", "+switch-master"}), 0, {}});
  };
  events.on_push = [weak](const Reply& push) {
    auto self = weak.lock();
    return self && self->on_switch_message(push);
  };
  events.on_down = [weak] {
    auto self = weak.lock();
    if (self && ++self->watch_failures_ >= 2) asio::post(self->executor_, [self] { self->watch_next(); });
  };
  watch_ = Connection::create(executor_, settings_for(known[watched_ % known.size()], true), sentinel_stats_,
                              std::move(events));
  watch_->start();
}

void MasterLocator::watch_next() {
  if (stopped_ || !watch_ || watch_failures_ < 2) return;
  watch_->stop();
  watch_.reset();
  watch_failures_ = 0;
  ++watched_;
  watch();
}

// ["message", "+switch-master", "name old-ip old-port new-ip new-port"] (and the SUBSCRIBE confirmation).
// Anything else (a health check's PONG) is left to the connection's queue.
bool MasterLocator::on_switch_message(const Reply& push) {
  if (!push.is_array() || push.elements.size() != 3) return false;
  const auto& kind = push.elements[0].text;
  if (kind == "message") {
    if (auto moved = switched_master_from(push.elements[2].text, settings_.master_name))
      adopt(*moved, "+switch-master from Sentinel " + sentinels().at(watched_ % sentinels().size()).text());
    return true;
  }
  return kind == "subscribe";
}

ConnectionSettings MasterLocator::settings_for(const NodeAddress& sentinel, bool reconnect) const {
  auto settings = settings_.connection;
  settings.host = sentinel.host;
  settings.port = sentinel.port;
  settings.socket_path.clear();
  settings.db = 0;
  settings.client_name.clear();  // a Sentinel is asked, not named
  settings.master_lookup = nullptr;
  settings.reconnect = reconnect;
  settings.log_failures = reconnect;  // a question's failure is told in the round's summary
  return settings;
}

}  // namespace routemq::redis
