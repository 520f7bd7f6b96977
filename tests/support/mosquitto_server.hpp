#pragma once
// A private mosquitto on 127.0.0.1, configured like config/mosquitto.conf (in-flight limit lifted: the
// default of 20 caps MQTT 5 QoS 1 at about 20 msg/s), for integration tests.
//
//   MosquittoServer broker;   // port chosen now, nothing running yet
//   broker.start();           // returns once it accepts connections
//   broker.kill9(); broker.start();   // a crash and a restart on the same port
//   MosquittoServer secured({.username = "u", .password = "p"});   // password file, no anonymous
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/local_server.hpp"

namespace routemq::test {

struct MosquittoOptions {
  std::uint16_t port = 0;                   // 0: a free loopback port
  std::string username{};                   // with password: anonymous clients are refused
  std::string password{};
  std::vector<std::string> extra_config{};  // appended to the generated mosquitto.conf
};

class MosquittoServer {
 public:
  explicit MosquittoServer(MosquittoOptions options = {});
  ~MosquittoServer() { stop(); }

  std::uint16_t port() const { return server_.port(); }
  pid_t pid() const { return server_.pid(); }
  void start();
  void stop() { server_.stop(); }
  void kill9() { server_.kill9(); }
  void restart();  // stop (if running), then start on the same port
  void pause() const { server_.pause(); }
  void resume() const { server_.resume(); }
  bool running() { return server_.running(); }
  std::string log_text() const { return server_.log_text(); }

 private:
  void write_password_file() const;

  LocalServer server_;
  MosquittoOptions options_;
};

}  // namespace routemq::test
