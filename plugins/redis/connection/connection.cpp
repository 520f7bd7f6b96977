#include "plugins/redis/connection/connection.hpp"

#include <algorithm>
#include <random>

#include <boost/asio/ssl/error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/protocol/encoder.hpp"

namespace routemq::redis {
namespace {

// The randomness of the lifecycle's backoff (backoff_delay): many clients do not reconnect in lockstep.
double reconnect_jitter() {
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_real_distribution<double> fraction(0.0, 1.0);
  return fraction(random);
}

// A few ticks per command timeout, and per health check interval when health checks are on (not 0).
std::chrono::milliseconds tick_interval(const ConnectionSettings& settings) {
  const bool health_checks = settings.health_check_interval.count() > 0;
  const auto quarter =
      (health_checks ? std::min(settings.command_timeout, settings.health_check_interval) : settings.command_timeout) / 4;
  return std::clamp(quarter, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
}

}  // namespace

std::shared_ptr<Connection> Connection::create(asio::any_io_executor executor, ConnectionSettings settings,
                                               std::shared_ptr<ClientStats> stats, ConnectionEvents events) {
  return std::shared_ptr<Connection>(
      new Connection(std::move(executor), std::move(settings), std::move(stats), std::move(events)));
}

// The socket, resolver and timers take the executor, so their handlers run on it too.
Connection::Connection(asio::any_io_executor executor, ConnectionSettings settings, std::shared_ptr<ClientStats> stats,
                       ConnectionEvents events)
    : executor_(std::move(executor)),
      settings_(std::move(settings)),
      stats_(std::move(stats)),
      events_(std::move(events)),
      connect_timer_(executor_),
      backoff_timer_(executor_),
      tick_timer_(executor_),
      queue_(events_.take_back),
      fsm_(settings_, reconnect_jitter) {}

void Connection::start() {
  if (settings_.master_lookup && settings_.master_lookup->listen) {
    settings_.master_lookup->listen([weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self) return false;
      asio::post(self->executor_, [self] { self->follow_master(); });
      return true;
    });
  }
  asio::post(executor_, [self = shared_from_this()] {
    if (self->fsm_.state() != LinkState::idle) return;
    self->run(self->fsm_.start(self->where()));
    self->on_tick();
  });
}

void Connection::stop() {
  asio::post(executor_, [self = shared_from_this()] { self->run(self->fsm_.stop()); });
}

void Connection::submit(Request&& request) {
  if (!ready()) return unavailable_.refuse(request, Unavailable::Reason::not_connected);
  if (inbox_.put(std::move(request))) asio::post(executor_, [self = shared_from_this()] { self->drain_inbox(); });
}

void Connection::drain_inbox() {
  for (auto& request : inbox_.take()) {
    if (ready()) {
      queue_.push(std::move(request));
      continue;
    }
    unavailable_.refuse(request, Unavailable::Reason::not_connected);
  }
  flush();
}

// A handler often pushes many requests (a cluster's burst routed to its nodes): the write waits for
// the end of the handler's turn, so that they leave together. Written at once, the first would go
// alone and the rest wait for its write to complete: one command, then the others, every burst.
void Connection::push_on_io_thread(Request&& request) {
  queue_.push(std::move(request));
  if (!ready() || flush_posted_) return;
  flush_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

// The lifecycle's state as submit() and ready() read it from any thread. A "ready" waits for its
// action: the address source hears that its server was reached before anyone sees the connection ready.
void Connection::run(const LinkActions& actions) {
  const bool shows_ready_later = std::any_of(actions.begin(), actions.end(),
                                             [](const LinkAction& action) { return action.kind == LinkAction::Kind::ready; });
  if (!shows_ready_later) publish_state();
  for (const auto& action : actions) perform(action);
}

void Connection::publish_state() {
  switch (fsm_.state()) {
    case LinkState::idle: return state_.store(State::idle, std::memory_order_release);
    case LinkState::connecting:
    case LinkState::handshaking: return state_.store(State::connecting, std::memory_order_release);
    case LinkState::ready: return state_.store(State::ready, std::memory_order_release);
    case LinkState::down: return state_.store(State::down, std::memory_order_release);
    case LinkState::stopped: return state_.store(State::stopped, std::memory_order_release);
  }
}

void Connection::perform(const LinkAction& action) {
  using Kind = LinkAction::Kind;
  switch (action.kind) {
    case Kind::open: return open(action);
    case Kind::send_handshake: return send_handshake(action);
    case Kind::ready: return become_ready(action);
    case Kind::reached:
      if (settings_.master_lookup->reached) settings_.master_lookup->reached({action.address->host, action.address->port});
      return;
    case Kind::suspect:
      return settings_.master_lookup->suspect({action.address->host, action.address->port}, action.text);
    case Kind::note_failure:
      if (action.connection_failed) stats_->connection_failures.fetch_add(1, std::memory_order_relaxed);
      stats_->note_failure(action.text);
      return;
    case Kind::drop: return drop(action);
    case Kind::backoff: return back_off(action);
    case Kind::give_up:
      tick_timer_.cancel();
      return;
    case Kind::health_check:
      last_activity_ = Clock::now();
      return push_on_io_thread({encode_command({"PING"}), 1, {}});  // its deadline is the check
    case Kind::shut: return shut();
    case Kind::log_warn:
      spdlog::warn("redis: {}", action.text);
      return;
    case Kind::log_info:
      spdlog::info("redis: {}", action.text);
      return;
  }
}

// Where the address source says its server is now; nothing without a source (the address is fixed).
AddressAnswer Connection::where() const {
  if (!settings_.master_lookup) return {};
  const auto& source = *settings_.master_lookup;
  if (auto at = source.current()) return {NodeAddress{at->first, at->second}, {}};
  return {std::nullopt, source.why_unknown ? source.why_unknown() : std::string()};
}

QueueFacts Connection::queue_facts() const {
  const auto now = Clock::now();
  QueueFacts facts;
  if (auto oldest = queue_.oldest_written())
    facts.oldest_written_age = std::chrono::duration_cast<std::chrono::milliseconds>(now - *oldest);
  facts.empty = queue_.empty();
  facts.idle_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_activity_);
  return facts;
}

// The address source said its server moved: between ticks, so the connection follows at once.
void Connection::follow_master() { run(fsm_.master_moved(where())); }

void Connection::open(const LinkAction& action) {
  if (action.address) {
    settings_.host = action.address->host;
    settings_.port = action.address->port;
    transport_.set_address(settings_.host, settings_.port);
  }
  backoff_timer_.cancel();  // a move does not wait out the backoff
  const int generation = action.generation;
  parser_ = std::make_unique<ReplyParser>();
  writing_ = false;
  connect_timer_.expires_after(settings_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
    if (!ec) self->run(self->fsm_.connect_timed_out(generation, self->connect_timeout_detail()));
  });
  transport_.async_open([self = shared_from_this(), generation](const std::string& failure) {
    self->run(self->fsm_.opened(generation, failure));
  });
}

std::string Connection::connect_timeout_detail() const {
  const std::string_view stage = transport_.stage();
  if (stage == "TLS handshake")  // a plaintext Redis waits for a line end that a ClientHello may never have
    return "TLS: no answer to the TLS handshake within the connect timeout (a plaintext Redis port?)";
  if (stage == "open") return "no answer to AUTH / SELECT / PING within the connect timeout";
  return fmt::format("no connection within the connect timeout (still {})", stage);
}

// Why a read ended. A plaintext handshake that the server closes or resets: a TLS-only port, usually.
std::string Connection::closed_detail(const boost::system::error_code& error) const {
  const bool closed = error == asio::error::eof || error == asio::error::connection_reset;
  if (closed && state_ == State::connecting && !transport_.uses_tls())
    return "Redis closed the connection during the handshake (a TLS port? use rediss:// or redis.tls.enabled)";
  if (transport_.uses_tls() && error.category() == asio::error::get_ssl_category()) {
    auto words = "TLS: " + error.message();  // TLS 1.3: a refused client certificate shows on the first read
    if (words.find("certificate required") != std::string::npos)
      words += " (the server checks clients: set redis.tls.cert_file and key_file)";
    return words;
  }
  return error == asio::error::eof ? "Redis closed the connection" : error.message();
}

// The handshake's commands as one pipelined request, written before anything queued.
void Connection::send_handshake(const LinkAction& action) {
  std::string bytes;
  for (const auto& command : action.commands) append_command(bytes, command);
  const int generation = action.generation;
  const std::size_t count = action.commands.size();
  // `this`, not shared_from_this(): the queue is ours, so a handle in it would keep us alive in a
  // cycle whenever no stop() runs to fail it (an io_context stopped or destroyed first). Completions
  // only run inside our own handlers, which hold a handle.
  queue_.push_front_unwritten({std::move(bytes), count, [self = this, generation, count](Result result) {
                                 if (!result.ok()) return;  // the failure that failed it was handled already
                                 const auto replies = count == 1 ? std::vector<Reply>{result.reply} : result.reply.elements;
                                 self->run(self->fsm_.handshake_replied(generation, replies));
                               }});
  read();
  write_unwritten();  // the handshake goes first even though the connection is not "ready" yet
}

void Connection::become_ready(const LinkAction& action) {
  publish_state();
  connect_timer_.cancel();
  stats_->connects.fetch_add(1, std::memory_order_relaxed);
  if (action.reconnected) stats_->reconnects.fetch_add(1, std::memory_order_relaxed);
  if (events_.on_ready) events_.on_ready();
  flush();
}

// The attempt's callbacks are stale from here on (the machine moved to the next generation).
void Connection::drop(const LinkAction& action) {
  transport_.close();
  connect_timer_.cancel();
  if (action.command_timed_out) stats_->timeouts.fetch_add(1, std::memory_order_relaxed);
  queue_.fail_all(action.failure, action.text);
  if (events_.on_down) events_.on_down();
}

void Connection::back_off(const LinkAction& action) {
  backoff_timer_.expires_after(action.delay);
  backoff_timer_.async_wait([self = shared_from_this(), generation = action.generation](boost::system::error_code ec) {
    if (!ec) self->run(self->fsm_.backoff_elapsed(generation, self->where()));
  });
}

void Connection::shut() {
  transport_.close();
  connect_timer_.cancel();
  backoff_timer_.cancel();
  tick_timer_.cancel();
  queue_.fail_all(Failure::unavailable, "the Redis client is stopped");
}

void Connection::flush() {
  if (writing_ || state_ != State::ready || !queue_.has_unwritten()) return;
  write_unwritten();
}

// Everything queued and not yet written leaves in one write; what is queued meanwhile waits for it.
void Connection::write_unwritten() {
  queue_.take_unwritten(Clock::now(), write_buffer_);
  if (write_buffer_.empty()) return;
  writing_ = true;
  transport_.async_write(write_buffer_, [self = shared_from_this(), generation = fsm_.generation()](
                                            boost::system::error_code ec, std::size_t) {
    if (generation != self->fsm_.generation()) return;
    self->writing_ = false;
    if (ec) return self->run(self->fsm_.lost(generation, Failure::connection_lost, ec.message()));
    self->flush();
  });
}

void Connection::read() {
  transport_.async_read(
      [self = shared_from_this(), generation = fsm_.generation()](boost::system::error_code ec, std::string_view bytes) {
        if (generation != self->fsm_.generation()) return;
        if (ec) return self->run(self->fsm_.lost(generation, Failure::connection_lost, self->closed_detail(ec)));
        self->last_activity_ = Clock::now();
        self->parser_->feed(bytes);
        while (auto reply = self->parser_->next()) {
          self->handle_reply(std::move(*reply));
          if (generation != self->fsm_.generation()) return;  // a completion or a bad reply ended this connection
        }
        if (self->parser_->failed()) return self->run(self->fsm_.lost(generation, Failure::protocol, self->parser_->error()));
        self->read();
      });
}

void Connection::handle_reply(Reply&& reply) {
  if (events_.on_push && state_ == State::ready && events_.on_push(reply)) return;
  if (reply.is_error()) {
    stats_->errors.fetch_add(1, std::memory_order_relaxed);
    run(fsm_.error_reply(reply.text));  // READONLY: the server was demoted under us (the caller gets the error)
  }
  if (!queue_.on_reply(std::move(reply)))
    run(fsm_.lost(fsm_.generation(), Failure::protocol, "Redis sent a reply nobody asked for"));
}

// Deadlines, health checks and the address source's moves, a few times per command timeout.
void Connection::on_tick() {
  if (fsm_.state() == LinkState::stopped) return;
  run(fsm_.tick(queue_facts(), where()));
  if (fsm_.state() == LinkState::stopped) return;  // no reconnecting after a failure: nothing to watch
  tick_timer_.expires_after(tick_interval(settings_));
  tick_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->on_tick();
  });
}

}  // namespace routemq::redis
