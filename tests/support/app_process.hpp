#pragma once
// The service binary (build/bin/routemq) run as a real process, as an operator would run it.
#include <chrono>
#include <csignal>
#include <map>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace routemq::test {

class AppProcess {
 public:
  // Runs routemq_binary() with `args` and the test's environment plus `env`, in the test's working directory;
  // stdout+stderr go to a private log file.
  static AppProcess start(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

  std::string log_text() const { return process_.log_text(); }
  bool wait_log_contains(const std::string& text, std::chrono::milliseconds deadline);
  void terminate() const { process_.signal(SIGTERM); }
  pid_t pid() const { return process_.pid(); }
  bool wait_exit(std::chrono::milliseconds deadline) { return process_.wait_exit(deadline); }
  std::optional<int> exit_code() const { return process_.exit_code(); }
  bool running() { return process_.running(); }
  ChildProcess& process() { return process_; }

 private:
  explicit AppProcess(ChildProcess process) : process_(std::move(process)) {}
  ChildProcess process_;
};

}  // namespace routemq::test
