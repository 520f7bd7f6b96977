#include "plugins/redis/connection/connection.hpp"

#include <random>

#include <boost/asio/ssl/error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/sentinel/sentinel_replies.hpp"

namespace routemq::redis {
namespace {

std::chrono::milliseconds jittered(std::chrono::milliseconds delay) {
  // Between half and all of the delay, so many clients do not reconnect in lockstep.
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_real_distribution<double> factor(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(delay.count()) * factor(random)));
}

std::chrono::milliseconds tick_interval(const ConnectionSettings& settings) {
  const auto quarter = std::min(settings.command_timeout, settings.health_check_interval) / 4;
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
      queue_(events_.take_back) {}

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
    if (self->state_ != State::idle) return;
    self->connect();
    self->on_tick();
  });
}

void Connection::stop() {
  asio::post(executor_, [self = shared_from_this()] {
    if (self->state_ == State::stopped) return;
    self->state_ = State::stopped;
    ++self->generation_;
    self->transport_.close();
    self->connect_timer_.cancel();
    self->backoff_timer_.cancel();
    self->tick_timer_.cancel();
    self->queue_.fail_all(Failure::unavailable, "the Redis client is stopped");
  });
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

void Connection::connect() {
  state_ = State::connecting;
  if (settings_.master_lookup && !aim_at_master()) return;
  const int generation = ++generation_;
  parser_ = std::make_unique<ReplyParser>();
  writing_ = false;
  connect_timer_.expires_after(settings_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
    if (ec || generation != self->generation_ || self->state_ != State::connecting) return;
    self->fail(Failure::timeout, self->connect_timeout_detail());
  });
  transport_.async_open([self = shared_from_this(), generation](const std::string& failure) {
    if (generation != self->generation_) return;
    if (!failure.empty()) return self->fail(Failure::connection_lost, failure);
    self->handshake();
  });
}

// With Sentinel: the master's address as known now. False, the attempt failed, when none is.
bool Connection::aim_at_master() {
  const auto where = settings_.master_lookup->current();
  if (!where) {  // not a failure of a connection: nothing was tried; wait for the Sentinels' answer
    stats_->note_failure("no master known yet: " + settings_.master_lookup->why_unknown());
    settings_.master_lookup->suspect({}, "a connection is waiting for a master");
    state_ = State::down;
    schedule_reconnect();
    return false;
  }
  settings_.host = where->first;
  settings_.port = where->second;
  transport_.set_address(settings_.host, settings_.port);
  return true;
}

// With Sentinel, between ticks: the master moved away from where this connection is (or was trying
// to be). Ready: its requests in flight fail (never replayed) and it reconnects to the new master at
// once. Down and waiting out a backoff: it goes now.
void Connection::follow_master() {
  if (state_ == State::idle || state_ == State::stopped) return;
  const auto where = settings_.master_lookup->current();
  if (!where || (where->first == settings_.host && where->second == settings_.port)) return;
  failed_attempts_ = 0;  // the new master has not failed us: no backoff
  if (state_ == State::ready)
    return fail(Failure::connection_lost, fmt::format("the master moved to {}:{} (Sentinel)", where->first, where->second));
  backoff_timer_.cancel();
  connect();
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

// AUTH, SELECT and CLIENT SETNAME as one pipelined request, then the connection is ready. A PING
// when there is nothing to set up, so "ready" always means "Redis answered".
void Connection::handshake() {
  std::vector<std::vector<std::string>> commands;
  if (!settings_.password.empty()) {
    if (settings_.username.empty())
      commands.push_back({"AUTH", settings_.password});
    else
      commands.push_back({"AUTH", settings_.username, settings_.password});
  }
  if (settings_.db != 0) commands.push_back({"SELECT", std::to_string(settings_.db)});
  if (!settings_.client_name.empty()) commands.push_back({"CLIENT", "SETNAME", settings_.client_name});
  // A Sentinel may answer with a master that is no longer one (stale, or mid-failover): ask it.
  if (settings_.master_lookup) commands.push_back({"ROLE"});
  if (commands.empty()) commands.push_back({"PING"});
  std::string bytes;
  for (const auto& command : commands) append_command(bytes, command);
  const int generation = generation_;
  const std::size_t count = commands.size();
  // `this`, not shared_from_this(): the queue is ours, so a handle in it would keep us alive in a
  // cycle whenever no stop() runs to fail it (an io_context stopped or destroyed first). Completions
  // only run inside our own handlers, which hold a handle.
  queue_.push_front_unwritten({std::move(bytes), count, [self = this, generation, count](Result result) {
                 if (generation != self->generation_ || !result.ok()) return;  // fail() already ran
                 const auto& replies = count == 1 ? std::vector<Reply>{result.reply} : result.reply.elements;
                 for (const auto& reply : replies)
                   if (reply.is_error()) return self->fail(Failure::connection_lost, "handshake refused: " + reply.text);
                 if (self->settings_.master_lookup && role_from(replies.back()) != "master")
                   return self->fail(Failure::connection_lost,
                                     fmt::format("{} is not a master (ROLE {}): a stale Sentinel answer, or a "
                                                 "failover in progress", self->settings_.address(),
                                                 replies.back().describe()));
                 self->connect_timer_.cancel();
                 if (self->settings_.master_lookup && self->settings_.master_lookup->reached)  // before "ready" shows
                   self->settings_.master_lookup->reached({self->settings_.host, self->settings_.port});
                 self->state_ = State::ready;
                 self->stats_->connects.fetch_add(1, std::memory_order_relaxed);
                 if (self->ever_connected_) {
                   self->stats_->reconnects.fetch_add(1, std::memory_order_relaxed);
                   spdlog::info("redis: reconnected to {}", self->settings_.address());
                 }
                 self->ever_connected_ = true;
                 self->failed_attempts_ = 0;
                 if (self->events_.on_ready) self->events_.on_ready();
                 self->flush();
               }});
  read();
  write_unwritten();  // the handshake goes first even though the connection is not "ready" yet
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
  transport_.async_write(write_buffer_,
                         [self = shared_from_this(), generation = generation_](boost::system::error_code ec, std::size_t) {
                           if (generation != self->generation_) return;
                           self->writing_ = false;
                           if (ec) return self->fail(Failure::connection_lost, ec.message());
                           self->flush();
                         });
}

void Connection::read() {
  transport_.async_read(
      [self = shared_from_this(), generation = generation_](boost::system::error_code ec, std::string_view bytes) {
        if (generation != self->generation_) return;
        if (ec)
          return self->fail(Failure::connection_lost, self->closed_detail(ec));
        self->last_activity_ = Clock::now();
        self->parser_->feed(bytes);
        while (auto reply = self->parser_->next()) {
          self->handle_reply(std::move(*reply));
          if (generation != self->generation_) return;  // a completion or a bad reply ended this connection
        }
        if (self->parser_->failed()) return self->fail(Failure::protocol, self->parser_->error());
        self->read();
      });
}

void Connection::handle_reply(Reply&& reply) {
  if (events_.on_push && state_ == State::ready && events_.on_push(reply)) return;
  if (reply.is_error()) stats_->errors.fetch_add(1, std::memory_order_relaxed);
  // A write refused by a replica: the master was demoted under us (the caller gets the error, as is).
  if (reply.is_error() && settings_.master_lookup && reply.text.starts_with("READONLY"))
    settings_.master_lookup->suspect({settings_.host, settings_.port},
                                     settings_.address() + " answered READONLY: it is a replica now");
  if (!queue_.on_reply(std::move(reply))) fail(Failure::protocol, "Redis sent a reply nobody asked for");
}

// Deadlines and health checks, a few times per command timeout.
void Connection::on_tick() {
  if (state_ == State::stopped) return;
  const auto now = Clock::now();
  if (settings_.master_lookup && (state_ == State::ready || state_ == State::down)) follow_master();
  if (state_ == State::ready) {
    if (auto oldest = queue_.oldest_written(); oldest && now - *oldest > settings_.command_timeout) {
      stats_->timeouts.fetch_add(1, std::memory_order_relaxed);
      fail(Failure::timeout, "no reply within the command timeout; the connection is recycled");
    } else if (queue_.empty() && now - last_activity_ > settings_.health_check_interval) {
      last_activity_ = now;
      push_on_io_thread({encode_command({"PING"}), 1, {}});  // its deadline is the check
    }
  }
  tick_timer_.expires_after(tick_interval(settings_));
  tick_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->on_tick();
  });
}

void Connection::fail(Failure failure, const std::string& detail) {
  if (state_ == State::stopped || state_ == State::down) return;
  const bool was_ready = state_ == State::ready;
  state_ = State::down;
  ++generation_;
  transport_.close();
  connect_timer_.cancel();
  stats_->connection_failures.fetch_add(1, std::memory_order_relaxed);
  const auto what = fmt::format("{} {}: {}", settings_.address(), was_ready ? "connection lost" : "cannot connect", detail);
  stats_->note_failure(what);
  if (settings_.master_lookup)  // the master may have moved
    settings_.master_lookup->suspect({settings_.host, settings_.port}, detail);
  if (settings_.log_failures && (was_ready || failed_attempts_ == 0)) spdlog::warn("redis: {}", what);
  queue_.fail_all(failure, detail);
  if (events_.on_down) events_.on_down();
  schedule_reconnect();
}

void Connection::schedule_reconnect() {
  if (!settings_.reconnect) {
    state_ = State::stopped;
    tick_timer_.cancel();
    return;
  }
  const auto exponent = std::min(failed_attempts_++, 20);
  const std::chrono::milliseconds delay = std::min<std::chrono::milliseconds>(
      settings_.reconnect_max, settings_.reconnect_min * (std::int64_t{1} << exponent));
  backoff_timer_.expires_after(jittered(delay));
  backoff_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && self->state_ == State::down) self->connect();
  });
}

}  // namespace routemq::redis
