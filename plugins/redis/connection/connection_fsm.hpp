#pragma once
// The lifecycle of one Redis connection as a sans-IO state machine: events in, actions out.
//
//   idle --start--> connecting --opened--> handshaking --replies--> ready
//                       |                      |                      |
//                       +------ failure -------+------ failure -------+--> down --backoff--> connecting
//   any --stop--> stopped                      (no reconnecting: a failure ends in stopped)
//
// It decides; connection.cpp executes what it asks (open a transport, send commands, arm timers,
// fail requests) and feeds back what happened. Nothing here touches a socket or a clock, so every
// race is a test of a few lines (tests/unit/redis/test_connection_fsm.cpp).
//
// Where to connect comes from the settings' address source (MasterLookup) when there is one: its
// answer is passed in with the events that may (re)connect, the server must then answer ROLE
// "master" in the handshake, and the source hears every sign that the server moved (a failure,
// READONLY, ROLE not master). Without a source the address is fixed and none of that happens. A
// replica's connection (ConnectionSettings::replica) has a fixed address and must answer ROLE "slave".
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/redis/connection/connection_settings.hpp"
#include "plugins/redis/protocol/node_address.hpp"
#include "plugins/redis/protocol/reply.hpp"
#include "plugins/redis/protocol/result.hpp"

namespace routemq::redis {

enum class LinkState { idle, connecting, handshaking, ready, down, stopped };

// What the address source says now. Without a source: nothing (the fixed address is used).
struct AddressAnswer {
  std::optional<NodeAddress> address;
  std::string why_unknown;  // when a source knows no address: why
};

// What a health tick needs to know about the requests (the queue lives in the shell).
struct QueueFacts {
  std::optional<std::chrono::milliseconds> oldest_written_age;  // nullopt: nothing awaits a reply
  bool empty = true;
  std::chrono::milliseconds idle_for{0};  // since the last bytes from the server
};

struct LinkAction {
  enum class Kind {
    open,            // open the transport (at `address` when set) for attempt `generation`
    send_handshake,  // `commands`, pipelined; their replies come back through handshake_replied
    ready,           // the handshake passed: show ready; `reconnected` when it was ready before
    reached,         // tell the address source its server at `address` answered as master
    suspect,         // tell the address source a sign its server moved: `address` (empty host: none tried), `text`
    note_failure,    // the connection's last failure, for its stats: `text`
    drop,            // close the transport, fail what is in flight with `failure` and `text`, count it
    backoff,         // call backoff_elapsed(`generation`) after `delay`
    give_up,         // no reconnecting: the connection is stopped (its timers can go)
    health_check,    // send a PING (its deadline is the check)
    shut,            // stop(): close, cancel every timer, fail everything queued as "stopped"
    log_warn,        // `text`
    log_info,        // `text`
  };
  Kind kind = Kind::log_info;
  int generation = 0;
  std::optional<NodeAddress> address;
  std::vector<std::vector<std::string>> commands;
  Failure failure = Failure::none;
  std::string text;
  std::chrono::milliseconds delay{0};
  bool reconnected = false;
  bool command_timed_out = false;  // a drop because a reply did not come in time (counted apart)
  // A note_failure of a failed connection (not of an address still unknown): counted as one before
  // the failure shows, so a reader who sees the failure also sees it counted.
  bool connection_failed = false;
};
using LinkActions = std::vector<LinkAction>;

// Capped exponential backoff: reconnect_min * 2^failed_attempts up to reconnect_max, then between
// half and all of it (`jitter` in [0, 1): 0 keeps it all), so that many clients do not reconnect
// in lockstep.
std::chrono::milliseconds backoff_delay(int failed_attempts, std::chrono::milliseconds min, std::chrono::milliseconds max,
                                        double jitter);

class ConnectionFsm {
 public:
  using Jitter = std::function<double()>;  // a value in [0, 1) per backoff; injected so tests know it

  ConnectionFsm(const ConnectionSettings& settings, Jitter jitter);

  LinkState state() const { return state_; }
  int generation() const { return generation_; }  // per attempt: callbacks of an older one are stale
  bool follows_source() const { return follows_; }
  // Connecting for the first time: never ready, no attempt failed yet.
  bool first_attempt() const;
  std::string address_text() const;  // "host:port" or "unix:path", for logs and errors

  LinkActions start(const AddressAnswer& where);
  LinkActions opened(int generation, std::string_view failure);  // empty failure: the transport is open
  LinkActions connect_timed_out(int generation, const std::string& detail);
  LinkActions handshake_replied(int generation, const std::vector<Reply>& replies);
  LinkActions lost(int generation, Failure failure, const std::string& detail);  // read, write, protocol
  LinkActions error_reply(std::string_view text);  // a request's error reply (READONLY: a demoted master)
  LinkActions tick(const QueueFacts& queue, const AddressAnswer& where);
  LinkActions backoff_elapsed(int generation, const AddressAnswer& where);
  LinkActions master_moved(const AddressAnswer& where);
  LinkActions stop();

 private:
  std::vector<std::vector<std::string>> handshake_commands() const;
  std::optional<std::string> refusal(const std::vector<Reply>& replies) const;
  void attempt(const AddressAnswer& where, LinkActions& out);
  void wait_for_address(const std::string& why_unknown, LinkActions& out);
  void follow(const AddressAnswer& where, LinkActions& out);
  void fail(Failure failure, const std::string& detail, LinkActions& out, bool command_timed_out = false);
  void after_failure(LinkActions& out);
  void check_requests(const QueueFacts& queue, LinkActions& out);

  // The handshake and the timers, from the settings.
  std::string socket_path_;
  int db_ = 0;
  std::string username_;
  std::string password_;
  std::string client_name_;
  std::chrono::milliseconds command_timeout_;
  std::chrono::milliseconds health_check_interval_;
  std::chrono::milliseconds reconnect_min_;
  std::chrono::milliseconds reconnect_max_;
  bool reconnect_ = true;
  bool log_failures_ = true;
  bool follows_ = false;  // an address source says where to connect, and the server must be master
  bool replica_ = false;  // the server must be a replica (ROLE slave)
  bool cluster_readonly_ = false;  // READONLY in the handshake (a cluster replica's reads)
  Jitter jitter_;

  NodeAddress address_;  // where the current (or last) attempt went
  LinkState state_ = LinkState::idle;
  int generation_ = 0;
  int failed_attempts_ = 0;
  bool ever_connected_ = false;
};

}  // namespace routemq::redis
