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
    : executor_(std::move(executor)),
      settings_(std::move(settings)),
      retry_timer_(executor_),
      fsm_(settings_.master_name, settings_.nodes, settings_.connection.reconnect_min, settings_.connection.reconnect_max),
      replica_timer_(executor_) {
  sentinels_ = settings_.nodes;
  problem_ = "the Sentinels were not asked yet";
}

MasterLocator::~MasterLocator() {
  if (query_) query_->stop();
  if (watch_) watch_->stop();
  if (replica_query_) replica_query_->stop();
}

void MasterLocator::start() {
  asio::post(executor_, [self = shared_from_this()] { self->run(self->fsm_.start()); });
}

void MasterLocator::stop() {
  asio::post(executor_, [self = shared_from_this()] {
    self->run(self->fsm_.stop());
    self->retry_timer_.cancel();
    self->replica_timer_.cancel();
    if (self->query_) self->query_->stop();
    if (self->watch_) self->watch_->stop();
    if (self->replica_query_) self->replica_query_->stop();
    self->query_.reset();
    self->watch_.reset();
    self->replica_query_.reset();
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

// A sign from `at` that the master moved (what it doubts: sentinel_fsm.hpp).
void MasterLocator::suspect(const NodeAddress& at, const std::string& why) {
  asio::post(executor_, [self = shared_from_this(), at, why] { self->run(self->fsm_.sign(at, why)); });
}

void MasterLocator::run(const SentinelActions& actions) {
  for (const auto& action : actions) perform(action);
}

void MasterLocator::perform(const SentinelAction& action) {
  using Kind = SentinelAction::Kind;
  switch (action.kind) {
    case Kind::ask: return ask(action);
    case Kind::adopt: return adopt(action);
    case Kind::learned: {
      std::lock_guard lock(mutex_);
      sentinels_ = action.sentinels;
      return;
    }
    case Kind::problem: return set_problem(action.text);
    case Kind::watch:
      if (!watch_) watch();
      return;
    case Kind::schedule_retry: return retry_later(action);
    case Kind::log_debug:
      spdlog::debug("redis: {}", action.text);
      return;
    case Kind::log_info:
      spdlog::info("redis: {}", action.text);
      return;
    case Kind::log_warn:
      spdlog::warn("redis: {}", action.text);
      return;
  }
}

// One question to one Sentinel on a one-shot connection: the master's address, and its peers.
void MasterLocator::ask(const SentinelAction& action) {
  if (query_) query_->stop();  // a question left unanswered by a round restarted
  query_ = Connection::create(executor_, settings_for(action.address, false), sentinel_stats_);
  query_ticket_ = action.ticket;
  std::string question;
  append_command(question, {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", settings_.master_name});
  append_command(question, {"SENTINEL", "SENTINELS", settings_.master_name});
  // Weakly: the question sits in the connection's queue, which this locator holds.
  std::weak_ptr<MasterLocator> weak = weak_from_this();
  query_->push_on_io_thread({std::move(question), 2, [weak, ticket = action.ticket](Result result) {
                               auto self = weak.lock();
                               if (!self) return;
                               if (ticket == self->query_ticket_ && self->query_) {
                                 self->query_->stop();
                                 self->query_.reset();
                               }
                               self->run(self->fsm_.answered(ticket, answer_from(result)));
                             }});
  query_->start();
}

// The two replies (the master's address, nil when the name is unknown; the peers), as the FSM reads them.
SentinelAnswer MasterLocator::answer_from(const Result& result) {
  const bool replied = result.ok() && result.reply.elements.size() == 2;
  SentinelAnswer answer;
  answer.master = replied ? master_address_from(result.reply.elements[0]) : std::nullopt;
  if (answer.master)
    answer.sentinels = sentinel_addresses_from(result.reply.elements[1]);
  else
    answer.problem = replied ? result.reply.elements[0].describe() : result.error_text();
  return answer;
}

void MasterLocator::adopt(const SentinelAction& action) {
  {
    std::lock_guard lock(mutex_);
    master_ = action.address;
    problem_.clear();
  }
  if (action.moved) tell_followers();
  if (replicas_told_) ask_replicas();  // a new master has other replicas (the promoted one is not one now)
}

// SENTINEL REPLICAS of one Sentinel, in turn, on a one-shot connection; asked again after the
// refresh interval whatever the answer (a Sentinel that did not answer is not asked next time).
void MasterLocator::ask_replicas() {
  const auto known = sentinels();
  if (fsm_.phase() == SentinelFsm::Phase::stopped || known.empty()) return;
  if (replica_query_) replica_query_->stop();  // an older question: its answer is dropped below
  replica_query_ = Connection::create(executor_, settings_for(known[replica_turn_++ % known.size()], false), sentinel_stats_);
  std::weak_ptr<MasterLocator> weak = weak_from_this();
  const auto ticket = ++replica_ticket_;
  replica_query_->push_on_io_thread({encode_command({"SENTINEL", "REPLICAS", settings_.master_name}), 1,
                                     [weak, ticket](Result result) {
                                       auto self = weak.lock();
                                       if (!self || !self->replica_query_ || ticket != self->replica_ticket_) return;
                                       self->replica_query_->stop();
                                       self->replica_query_.reset();
                                       if (result.ok() && result.reply.is_array())
                                         self->replicas_told_(replica_addresses_from(result.reply));
                                       self->ask_replicas_later();
                                     }});
  replica_query_->start();
}

void MasterLocator::ask_replicas_later() {
  replica_timer_.expires_after(replica_refresh_interval);
  replica_timer_.async_wait([weak = weak_from_this()](boost::system::error_code error) {
    auto self = weak.lock();
    if (!error && self) self->ask_replicas();
  });
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

// No Sentinel answered: again after the FSM's backoff, until one does.
void MasterLocator::retry_later(const SentinelAction& action) {
  retry_timer_.expires_after(action.delay);
  retry_timer_.async_wait([weak = weak_from_this(), ticket = action.ticket](boost::system::error_code error) {
    auto self = weak.lock();
    if (!error && self) self->run(self->fsm_.retry_due(ticket));
  });
}

// +switch-master on one Sentinel: a failover is followed the moment Sentinel announces it. The
// watched Sentinel changes after two failed attempts in a row.
void MasterLocator::watch() {
  const auto known = sentinels();
  if (fsm_.phase() == SentinelFsm::Phase::stopped || known.empty()) return;
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
  if (fsm_.phase() == SentinelFsm::Phase::stopped || !watch_ || watch_failures_ < 2) return;
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
    if (auto moved = switched_master_from(push.elements[2].text, settings_.master_name)) {
      const auto known = sentinels();
      run(fsm_.switched(*moved, "+switch-master from Sentinel " + known.at(watched_ % known.size()).text()));
    }
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
