#pragma once
// A child process owned by a test: started in its own process group (so a Ctrl-C aimed at the test
// runner never reaches it), output to a log file, and always reaped: the destructor stops it (SIGTERM,
// then SIGKILL after a grace period), so a failing test leaves no server behind. A test killed by a
// signal or aborted by a sanitizer runs no destructor: then the kernel kills the child (PDEATHSIG).
// That signal follows the thread that spawned the child: spawn servers from the test's own thread,
// not from a thread that ends before them.
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace routemq::test {

class ChildProcess {
 public:
  // Throws std::runtime_error when the program cannot be started.
  static ChildProcess spawn(std::vector<std::string> argv, std::map<std::string, std::string> extra_env = {},
                            std::filesystem::path log_file = {});

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();                         // reaps it if it has exited
  void signal(int signal_number) const;  // no-op once exited
  void kill9() const { signal(SIGKILL); }
  bool wait_exit(std::chrono::milliseconds deadline);
  // The exit status, or 128 + signal number when killed; nullopt while running.
  std::optional<int> exit_code() const { return exit_code_; }
  // SIGTERM, wait up to `grace`, then SIGKILL to its process group; returns once it is reaped.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(3));

  const std::filesystem::path& log_file() const { return log_file_; }
  std::string log_text() const;

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path log_file_;
  bool owns_log_ = false;
};

}  // namespace routemq::test
