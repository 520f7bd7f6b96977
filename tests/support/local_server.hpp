#pragma once
// What every private test server has in common: a loopback port fixed at construction (so a server
// can be restarted on the same port, or started after the code under test), a private directory, and
// a child process that can be stopped, killed, paused and resumed for real.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace routemq::test {

class LocalServer {
 public:
  // `command` builds the argv once the port and directory exist; `ready` says when it serves.
  LocalServer(std::string name, std::uint16_t port);

  std::uint16_t port() const { return port_; }
  const TempDir& dir() const { return dir_; }

  // Starts it and waits (10 s) until `ready` holds; throws with the server's log when it does not.
  void start(const std::vector<std::string>& argv, const std::function<bool()>& ready);
  void stop();
  void kill9();                    // SIGKILL, and waits until it is gone
  void pause() const;              // SIGSTOP: the port stays open but nothing answers
  void resume() const;             // SIGCONT
  bool running();
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  std::string log_text() const { return process_ ? process_->log_text() : std::string(); }

 private:
  std::string name_;
  std::uint16_t port_;
  TempDir dir_;
  std::optional<ChildProcess> process_;
};

}  // namespace routemq::test
