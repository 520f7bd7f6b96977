#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "tests/support/wait_until.hpp"

extern char** environ;

namespace routemq::test {
namespace {

std::filesystem::path fresh_log_path() {
  std::string pattern = "/tmp/routemq-child-XXXXXX.log";
  const int fd = ::mkstemps(pattern.data(), 4);
  if (fd < 0) throw std::runtime_error("ChildProcess: cannot create a log file");
  ::close(fd);
  return pattern;
}

// The current environment with `extra` added or replaced.
std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string text(*entry);
    const auto name = text.substr(0, text.find('='));
    if (!extra.count(name)) entries.push_back(std::move(text));
  }
  for (const auto& [name, value] : extra) entries.push_back(name + "=" + value);
  return entries;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

ChildProcess ChildProcess::spawn(std::vector<std::string> argv, std::map<std::string, std::string> extra_env,
                                 std::filesystem::path log_file) {
  ChildProcess child;
  child.owns_log_ = log_file.empty();
  child.log_file_ = log_file.empty() ? fresh_log_path() : std::move(log_file);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, child.log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);  // its own process group
  sigset_t default_signals;
  sigfillset(&default_signals);
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  auto environment = merged_environment(extra_env);
  auto env_pointers = c_strings(environment);
  auto arg_pointers = c_strings(argv);
  const int error = ::posix_spawnp(&child.pid_, argv.at(0).c_str(), &actions, &attributes, arg_pointers.data(),
                                   env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(error));
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      exit_code_(other.exit_code_),
      log_file_(std::move(other.log_file_)),
      owns_log_(std::exchange(other.owns_log_, false)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    exit_code_ = other.exit_code_;
    log_file_ = std::move(other.log_file_);
    owns_log_ = std::exchange(other.owns_log_, false);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  stop();
  std::error_code ignored;
  if (owns_log_ && !log_file_.empty()) std::filesystem::remove(log_file_, ignored);
}

bool ChildProcess::running() {
  if (pid_ < 0 || exit_code_) return false;
  int status = 0;
  const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped == 0) return true;
  if (reaped == pid_) exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  else exit_code_ = -1;  // not our child any more: treat as gone
  return false;
}

void ChildProcess::signal(int signal_number) const {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, signal_number);
}

bool ChildProcess::wait_exit(std::chrono::milliseconds deadline) {
  return wait_until([&] { return !running(); }, deadline, std::chrono::milliseconds(2));
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ < 0 || !running()) return;
  ::kill(pid_, SIGCONT);  // a paused process cannot handle SIGTERM
  ::kill(pid_, SIGTERM);
  if (wait_exit(grace)) return;
  // The whole group: a shell that ignores SIGTERM must not leave its own children (e.g. `sleep`) behind.
  ::kill(-pid_, SIGKILL);
  wait_exit(std::chrono::seconds(10));
}

std::string ChildProcess::log_text() const {
  std::ifstream in(log_file_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace routemq::test
