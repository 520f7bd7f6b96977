#include "plugins/redis/connection/connection_fsm.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace routemq::redis {
namespace {

LinkAction link_action(LinkAction::Kind kind) {
  LinkAction action;
  action.kind = kind;
  return action;
}

LinkAction link_action_with(LinkAction::Kind kind, std::string text) {
  auto action = link_action(kind);
  action.text = std::move(text);
  return action;
}

// The role a server reports in its ROLE reply ("master", "slave", "sentinel"); empty when malformed.
std::string_view role_in_reply(const Reply& reply) {
  if (!reply.is_array() || reply.elements.empty()) return {};
  return reply.elements[0].text;
}

// A replica's link to its master in its ROLE reply ("slave", ip, port, state, offset): "connected"
// once it holds its master's data; "connect", "connecting" or "sync" before that (a replica just
// restarted, or loading the master's copy answers reads with -LOADING or stale data).
std::string_view replication_state_in_reply(const Reply& reply) {
  if (!reply.is_array() || reply.elements.size() < 4) return {};
  return reply.elements[3].text;
}

}  // namespace

std::chrono::milliseconds backoff_delay(int failed_attempts, std::chrono::milliseconds min, std::chrono::milliseconds max,
                                        double jitter) {
  const auto exponent = std::clamp(failed_attempts, 0, 20);  // 2^20 times the minimum is past any cap
  const auto capped = std::min<std::chrono::milliseconds>(max, min * (std::int64_t{1} << exponent));
  const double kept = 1.0 - std::clamp(jitter, 0.0, 1.0) / 2;
  return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(capped.count()) * kept));
}

ConnectionFsm::ConnectionFsm(const ConnectionSettings& settings, Jitter jitter)
    : socket_path_(settings.socket_path),
      db_(settings.db),
      username_(settings.username),
      password_(settings.password),
      client_name_(settings.client_name),
      command_timeout_(settings.command_timeout),
      health_check_interval_(settings.health_check_interval),
      reconnect_min_(settings.reconnect_min),
      reconnect_max_(settings.reconnect_max),
      reconnect_(settings.reconnect),
      log_failures_(settings.log_failures),
      follows_(settings.master_lookup != nullptr),
      replica_(settings.replica && settings.master_lookup == nullptr),
      cluster_readonly_(settings.cluster_readonly),
      jitter_(std::move(jitter)),
      address_{settings.host, settings.port} {}

bool ConnectionFsm::first_attempt() const {
  const bool connecting = state_ == LinkState::idle || state_ == LinkState::connecting || state_ == LinkState::handshaking;
  return connecting && !ever_connected_ && failed_attempts_ == 0;
}

std::string ConnectionFsm::address_text() const {
  return socket_path_.empty() ? address_.text() : "unix:" + socket_path_;
}

LinkActions ConnectionFsm::start(const AddressAnswer& where) {
  LinkActions out;
  if (state_ == LinkState::idle) attempt(where, out);
  return out;
}

// A new attempt: everything of the one before is stale from here on. Following a source, it goes
// where the source says now; a source that knows nowhere yet is waited for like a failed attempt.
void ConnectionFsm::attempt(const AddressAnswer& where, LinkActions& out) {
  ++generation_;
  if (follows_ && !where.address) return wait_for_address(where.why_unknown, out);
  if (follows_) address_ = *where.address;
  state_ = LinkState::connecting;
  auto open = link_action(LinkAction::Kind::open);
  open.generation = generation_;
  if (follows_) open.address = address_;
  out.push_back(std::move(open));
}

// Not a failure of a connection (nothing was tried): no failure is counted, nothing is in flight.
// The source hears of it (from no address), so that it asks where its server is.
void ConnectionFsm::wait_for_address(const std::string& why_unknown, LinkActions& out) {
  state_ = LinkState::down;
  out.push_back(link_action_with(LinkAction::Kind::note_failure, "no master known yet: " + why_unknown));
  auto suspect = link_action_with(LinkAction::Kind::suspect, "a connection is waiting for a master");
  suspect.address = NodeAddress{};
  out.push_back(std::move(suspect));
  after_failure(out);
}

LinkActions ConnectionFsm::opened(int generation, std::string_view failure) {
  LinkActions out;
  if (generation != generation_ || state_ != LinkState::connecting) return out;
  if (!failure.empty()) {
    fail(Failure::connection_lost, std::string(failure), out);
    return out;
  }
  state_ = LinkState::handshaking;
  auto handshake = link_action(LinkAction::Kind::send_handshake);
  handshake.generation = generation_;
  handshake.commands = handshake_commands();
  out.push_back(std::move(handshake));
  return out;
}

// AUTH, SELECT and CLIENT SETNAME as one pipelined request; READONLY for a cluster replica's reads;
// ROLE when the server must be a master (a source can name a server that is no longer one: stale, or
// mid-failover) or a replica (one promoted since it was named). A PING when there is nothing to set
// up, so "ready" always means "Redis answered".
std::vector<std::vector<std::string>> ConnectionFsm::handshake_commands() const {
  std::vector<std::vector<std::string>> commands;
  if (!password_.empty()) {
    if (username_.empty())
      commands.push_back({"AUTH", password_});
    else
      commands.push_back({"AUTH", username_, password_});
  }
  if (db_ != 0) commands.push_back({"SELECT", std::to_string(db_)});
  if (!client_name_.empty()) commands.push_back({"CLIENT", "SETNAME", client_name_});
  if (cluster_readonly_) commands.push_back({"READONLY"});
  if (follows_ || replica_) commands.push_back({"ROLE"});
  if (commands.empty()) commands.push_back({"PING"});
  return commands;
}

LinkActions ConnectionFsm::connect_timed_out(int generation, const std::string& detail) {
  LinkActions out;
  const bool connecting = state_ == LinkState::connecting || state_ == LinkState::handshaking;
  if (generation == generation_ && connecting) fail(Failure::timeout, detail, out);
  return out;
}

LinkActions ConnectionFsm::handshake_replied(int generation, const std::vector<Reply>& replies) {
  LinkActions out;
  if (generation != generation_ || state_ != LinkState::handshaking) return out;
  if (auto refused = refusal(replies)) {
    fail(Failure::connection_lost, *refused, out);
    return out;
  }
  // The source hears first, before "ready" shows: whoever sees the connection ready sees the move counted.
  if (follows_) {
    auto reached = link_action(LinkAction::Kind::reached);
    reached.address = address_;
    out.push_back(std::move(reached));
  }
  state_ = LinkState::ready;
  auto ready = link_action(LinkAction::Kind::ready);
  ready.reconnected = ever_connected_;
  out.push_back(std::move(ready));
  if (ever_connected_) out.push_back(link_action_with(LinkAction::Kind::log_info, "reconnected to " + address_text()));
  ever_connected_ = true;
  failed_attempts_ = 0;
  return out;
}

// Why the handshake's replies do not make a usable connection; nullopt when they do.
std::optional<std::string> ConnectionFsm::refusal(const std::vector<Reply>& replies) const {
  for (const auto& reply : replies)
    if (reply.is_error()) return "handshake refused: " + reply.text;
  const auto role = replies.empty() ? std::string("missing") : replies.back().describe();
  if (follows_ && (replies.empty() || role_in_reply(replies.back()) != "master"))
    return fmt::format("{} is not a master (ROLE {}): a stale answer about where the master is, or a failover in progress",
                       address_text(), role);
  if (replica_ && (replies.empty() || role_in_reply(replies.back()) != "slave"))
    return fmt::format("{} is not a replica (ROLE {}): promoted since it was named; reads go elsewhere", address_text(), role);
  if (replica_ && replication_state_in_reply(replies.back()) != "connected")
    return fmt::format("{} is a replica still syncing with its master (ROLE {}): not read from until it has the data",
                       address_text(), role);
  return std::nullopt;
}

LinkActions ConnectionFsm::lost(int generation, Failure failure, const std::string& detail) {
  LinkActions out;
  if (generation == generation_) fail(failure, detail, out);
  return out;
}

// A write refused by a replica: the master was demoted under us (the caller gets the error as is).
LinkActions ConnectionFsm::error_reply(std::string_view text) {
  LinkActions out;
  if (!follows_ || !text.starts_with("READONLY")) return out;
  auto suspect = link_action_with(LinkAction::Kind::suspect, address_text() + " answered READONLY: it is a replica now");
  suspect.address = address_;
  out.push_back(std::move(suspect));
  return out;
}

// Deadlines and health checks, a few times per command timeout; and, following a source, whether
// its server moved while nobody said so.
LinkActions ConnectionFsm::tick(const QueueFacts& queue, const AddressAnswer& where) {
  LinkActions out;
  if (state_ == LinkState::stopped) return out;
  if (follows_ && (state_ == LinkState::ready || state_ == LinkState::down)) follow(where, out);
  if (state_ == LinkState::ready) check_requests(queue, out);
  return out;
}

void ConnectionFsm::check_requests(const QueueFacts& queue, LinkActions& out) {
  if (queue.oldest_written_age && *queue.oldest_written_age > command_timeout_)
    return fail(Failure::timeout, "no reply within the command timeout; the connection is recycled", out, true);
  const bool health_checks = health_check_interval_.count() > 0;  // 0: off (seed 004's health_check_interval: 0)
  if (health_checks && queue.empty && queue.idle_for > health_check_interval_)
    out.push_back(link_action(LinkAction::Kind::health_check));
}

LinkActions ConnectionFsm::backoff_elapsed(int generation, const AddressAnswer& where) {
  LinkActions out;
  if (generation == generation_ && state_ == LinkState::down) attempt(where, out);
  return out;
}

LinkActions ConnectionFsm::master_moved(const AddressAnswer& where) {
  LinkActions out;
  if (follows_) follow(where, out);
  return out;
}

// The source's server moved away from where this connection is (or was trying to be). Ready: its
// requests in flight fail (never replayed) and it reconnects after the shortest backoff. Connecting,
// or down and waiting out a backoff: it goes now, to the new address.
void ConnectionFsm::follow(const AddressAnswer& where, LinkActions& out) {
  if (state_ == LinkState::idle || state_ == LinkState::stopped) return;
  if (!where.address || *where.address == address_) return;
  failed_attempts_ = 0;  // the new server has not failed us: no long backoff
  if (state_ == LinkState::ready) return fail(Failure::connection_lost, "the master moved to " + where.address->text(), out);
  attempt(where, out);
}

void ConnectionFsm::fail(Failure failure, const std::string& detail, LinkActions& out, bool command_timed_out) {
  if (state_ == LinkState::idle || state_ == LinkState::stopped || state_ == LinkState::down) return;
  const bool was_ready = state_ == LinkState::ready;
  state_ = LinkState::down;
  ++generation_;
  const auto what = fmt::format("{} {}: {}", address_text(), was_ready ? "connection lost" : "cannot connect", detail);
  auto noted = link_action_with(LinkAction::Kind::note_failure, what);
  noted.connection_failed = true;
  out.push_back(std::move(noted));
  if (follows_) {  // the server may have moved
    auto suspect = link_action_with(LinkAction::Kind::suspect, detail);
    suspect.address = address_;
    out.push_back(std::move(suspect));
  }
  // Once per outage: the first failed attempt and the loss of a ready connection, not every retry.
  if (log_failures_ && (was_ready || failed_attempts_ == 0)) out.push_back(link_action_with(LinkAction::Kind::log_warn, what));
  auto drop = link_action_with(LinkAction::Kind::drop, detail);
  drop.failure = failure;
  drop.command_timed_out = command_timed_out;
  out.push_back(std::move(drop));
  after_failure(out);
}

void ConnectionFsm::after_failure(LinkActions& out) {
  if (!reconnect_) {
    state_ = LinkState::stopped;
    out.push_back(link_action(LinkAction::Kind::give_up));
    return;
  }
  auto backoff = link_action(LinkAction::Kind::backoff);
  backoff.generation = generation_;
  backoff.delay = backoff_delay(failed_attempts_++, reconnect_min_, reconnect_max_, jitter_ ? jitter_() : 0.0);
  out.push_back(std::move(backoff));
}

LinkActions ConnectionFsm::stop() {
  LinkActions out;
  if (state_ == LinkState::stopped) return out;
  state_ = LinkState::stopped;
  ++generation_;
  out.push_back(link_action(LinkAction::Kind::shut));
  return out;
}

}  // namespace routemq::redis
