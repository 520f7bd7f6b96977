#pragma once
// A private redis-server on 127.0.0.1 with no persistence, for integration and fault tests, plus a raw
// RESP helper so tests can inspect Redis independently of the client under test.
//
//   RedisServer redis({.password = "secret"});
//   redis.start();
//   redis.command({"SET", "k", "v"});   // "+OK\r\n"
//   redis.pause();  ...  redis.resume(); // SIGSTOP / SIGCONT: connected but silent
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/local_server.hpp"
#include "tests/support/test_certificates.hpp"

namespace routemq::test {

// A TLS port beside the plaintext one (which the raw command() helper keeps using).
struct RedisTlsOptions {
  CertificatePair certificate;             // the server's (test_certificates().server, .expired ...)
  bool require_client_certificate = false;  // mutual TLS: clients must show one signed by the test CA
};

struct RedisOptions {
  std::uint16_t port = 0;               // 0: a free loopback port
  std::string password{};               // requirepass (the default user)
  std::string username{};               // with password: an ACL user allowed everything
  std::vector<std::string> extra_config{};
  std::optional<RedisTlsOptions> tls{};  // also serve TLS on tls_port()
  bool unix_socket = false;              // also serve on socket_path()
};

// One command on a fresh connection to 127.0.0.1:`port` (no auth), the raw RESP reply; throws
// std::runtime_error when nothing answers within `timeout`. For servers other than RedisServer (Sentinel).
std::string resp_command(std::uint16_t port, const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = std::chrono::seconds(2));

class RedisServer {
 public:
  explicit RedisServer(RedisOptions options = {});
  ~RedisServer() { stop(); }

  std::uint16_t port() const { return server_.port(); }
  std::uint16_t tls_port() const { return tls_port_; }  // 0 without options.tls
  std::string socket_path() const { return (server_.dir() / "redis.sock").string(); }
  pid_t pid() const { return server_.pid(); }
  void start();
  void stop() { server_.stop(); }
  void kill9() { server_.kill9(); }
  void restart();
  void pause() const { server_.pause(); }
  void resume() const { server_.resume(); }
  bool running() { return server_.running(); }
  std::string log_text() const { return server_.log_text(); }

  // Sends one command on a fresh connection (authenticating as configured) and returns the raw RESP
  // reply; throws std::runtime_error when nothing answers within `timeout`.
  std::string command(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;

 private:
  LocalServer server_;
  RedisOptions options_;
  std::uint16_t tls_port_ = 0;
};

}  // namespace routemq::test
