#pragma once
// Where and how one Redis connection connects: the address (TCP host and port, or a unix socket),
// TLS, credentials, and its timers.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/net/tls_options.hpp"
#include "core/net/transport_options.hpp"

namespace routemq::redis {

// redis.tls (and redis.sentinel.tls): whether TLS is on, and the files and checks it uses.
struct TlsSettings : net::TlsOptions {
  bool enabled = false;
};

// An address source, for a server that moves (a Sentinel's master; any cluster master): where it is now
// (asked before every attempt and on ticks), told each sign it moved (lost, timeout, READONLY, ROLE not
// master), telling its connections of a move. Set: the handshake checks ROLE master and host and port
// are a first guess; unset: they are the fixed address (connection_fsm.hpp decides; no Sentinel there).
struct MasterLookup {
  std::function<std::optional<std::pair<std::string, int>>()> current;  // nullopt: no master known now
  // `at`: the address the sign came from ("host", port); an empty host when none was tried yet.
  std::function<void(const std::pair<std::string, int>& at, const std::string& why)> suspect;
  std::function<std::string()> why_unknown;  // when current() has nothing: why (the Sentinels' answers)
  // A connection reached the master at `at` and it said ROLE master: a move is complete only then
  // (a stale Sentinel can name a dead or demoted node for a moment). May be empty.
  std::function<void(const std::pair<std::string, int>& at)> reached;
  // Registers `on_move`, called (from any thread) the moment the master moves, so a connection
  // follows at once rather than at its next tick; it returns false once its connection is gone.
  std::function<void(std::function<bool()> on_move)> listen;
};

struct ConnectionSettings {
  std::string host = "localhost";
  int port = 6379;
  std::string socket_path;  // a unix socket instead of host and port
  int db = 0;
  std::string username;
  std::string password;
  std::string client_name;
  TlsSettings tls;
  // Built once from `tls` (core/net/tls_context.hpp) and shared by every connection; null: plaintext.
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  std::string tls_setting = "redis.tls";  // the settings TLS failures name (redis.sentinel.tls for Sentinels)
  std::shared_ptr<const MasterLookup> master_lookup;  // null: host and port, always
  // A replica's connection (redis.read_from), at host and port: its handshake checks ROLE "slave"
  // (a promoted replica is not read as one), and on a cluster first sends READONLY, without which a
  // cluster replica answers its master's slots with MOVED.
  bool replica = false;
  bool cluster_readonly = false;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds command_timeout{5000};
  std::chrono::milliseconds health_check_interval{5000};  // idle this long: a PING; 0: never
  net::TcpKeepalive keepalive;  // on each TCP connection
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  bool reconnect = true;  // false: one attempt (dedicated short-lived connections)
  bool log_failures = true;  // false: the owner reports them (a Sentinel question)

  // What the connection's Transport opens: the address and TLS of these settings.
  net::TransportOptions transport_options() const {
    return {.host = host,
            .port = port,
            .socket_path = socket_path,
            .tls_context = tls_context,
            .server_name = tls.server_name,
            .verify = tls.verify,
            .keepalive = keepalive,
            .tls_setting = tls_setting,
            .not_tls_hint = "a plaintext Redis port? use redis:// or its tls-port"};
  }

  // "host:port" or the socket path, for logs and errors.
  std::string address() const {
    return socket_path.empty() ? host + ":" + std::to_string(port) : "unix:" + socket_path;
  }
};

}  // namespace routemq::redis
