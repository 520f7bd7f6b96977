#pragma once
// One multiplexed Redis connection on the plugin's executor (a strand), over TCP, TLS or a unix socket
// (core/net/transport.hpp): connect (with a deadline), handshake
// (AUTH, SELECT, CLIENT SETNAME), then every queued request is written in one batch and completed in
// FIFO order (auto-pipelining). A reply that does not come within the command timeout fails the
// connection; so does an unanswered health-check PING. After a failure every request in flight fails
// at once and the connection reconnects with capped exponential backoff and jitter.
//
// What to do when is decided by ConnectionFsm (connection_fsm.hpp), sans-IO and tested step by
// step; this class is its shell: it feeds it what the transport, the timers and the queue report and
// carries out the actions it returns.
//
// While it is not ready (connecting, down, stopped) submit() completes at once with "unavailable":
// the circuit is open, nobody waits for a socket timeout.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "core/net/transport.hpp"
#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/connection/connection_fsm.hpp"
#include "plugins/redis/connection/connection_settings.hpp"
#include "plugins/redis/connection/inbox.hpp"
#include "plugins/redis/connection/unavailable.hpp"
#include "plugins/redis/protocol/reply_parser.hpp"
#include "plugins/redis/protocol/request_queue.hpp"

namespace routemq::redis {

struct ConnectionEvents {
  std::function<void()> on_ready;  // after each successful handshake, on the executor
  // Subscriber connections: replies the server pushes (messages); returns true when it took the reply.
  std::function<bool(const Reply&)> on_push;
  std::function<void()> on_down;   // after a failure, on the executor
  // Requests answered with an error reply or an array, offered before they complete (RequestQueue's
  // TakeBack): a cluster takes back those redirected to another node.
  RequestQueue::TakeBack take_back;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State { idle, connecting, ready, down, stopped };

  // Every handler runs on `executor`, which must not run two of them at once (a strand, or an
  // io_context run by one thread). The stats are shared: the connection may outlive its owner's
  // last look at them while its last handlers finish.
  static std::shared_ptr<Connection> create(asio::any_io_executor executor, ConnectionSettings settings,
                                            std::shared_ptr<ClientStats> stats, ConnectionEvents events = {});

  void start();  // thread-safe
  void stop();   // thread-safe; fails everything queued with "unavailable"
  bool ready() const { return state_.load(std::memory_order_acquire) == State::ready; }
  State state() const { return state_.load(std::memory_order_acquire); }
  // On the executor: connecting for the first time (never ready, no attempt failed yet).
  bool first_attempt() const { return fsm_.first_attempt(); }

  // Thread-safe. Completes with "unavailable" at once when the connection is not ready; `done` is
  // called on the executor otherwise.
  void submit(Request&& request);
  // On the executor only (events, follow-ups): queues even while not ready; written at the end of
  // the caller's turn (with whatever else it pushes), or once ready.
  void push_on_io_thread(Request&& request);

 private:
  Connection(asio::any_io_executor executor, ConnectionSettings settings, std::shared_ptr<ClientStats> stats,
             ConnectionEvents events);
  void run(const LinkActions& actions);
  void perform(const LinkAction& action);
  void open(const LinkAction& action);
  void send_handshake(const LinkAction& action);
  void become_ready(const LinkAction& action);
  void drop(const LinkAction& action);
  void back_off(const LinkAction& action);
  void shut();
  void publish_state();
  AddressAnswer where() const;
  QueueFacts queue_facts() const;
  void follow_master();
  std::string connect_timeout_detail() const;
  std::string closed_detail(const boost::system::error_code& error) const;
  void flush();
  void read();
  void on_tick();
  void handle_reply(Reply&& reply);
  void write_unwritten();
  void drain_inbox();

  asio::any_io_executor executor_;
  ConnectionSettings settings_;
  std::shared_ptr<ClientStats> stats_;
  Unavailable unavailable_{stats_};
  ConnectionEvents events_;
  net::Transport transport_{executor_, settings_.transport_options()};
  asio::steady_timer connect_timer_;
  asio::steady_timer backoff_timer_;
  asio::steady_timer tick_timer_;
  RequestQueue queue_;
  std::unique_ptr<ReplyParser> parser_;
  std::string write_buffer_;
  bool writing_ = false;
  bool flush_posted_ = false;  // a flush waits for the end of the current handler's turn
  ConnectionFsm fsm_;  // the lifecycle: its generation tells the callbacks of an old socket apart
  Clock::time_point last_activity_{};
  std::atomic<State> state_{State::idle};
  // Requests from other threads wait here; one post to the executor moves a whole burst at once.
  Inbox<Request> inbox_;
};

}  // namespace routemq::redis
