#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "tests/support/wait_until.hpp"

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

// The file execve() should run: `name` itself when it has a slash, else the first executable one on PATH
// (resolved before fork, as execvp would after it).
std::string program_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::stringstream folders(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string folder; std::getline(folders, folder, ':');) {
    auto candidate = (folder.empty() ? std::string(".") : folder) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // execve fails with ENOENT, reported as "cannot start"
}

// In the child, before exec. Its own process group, so a Ctrl-C aimed at the test runner never reaches
// it; killed with SIGKILL when the test process dies, however it dies (a crash, a sanitizer's abort,
// ctest's timeout), so no server outlives its test. Async-signal-safe calls only.
void become_child(pid_t parent, const char* log_file, int exec_error_pipe) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the test died before prctl: nobody would stop us
  const int input = ::open("/dev/null", O_RDONLY);
  const int output = ::open(log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (input < 0 || output < 0) {
    const int error = errno;
    [[maybe_unused]] const auto written = ::write(exec_error_pipe, &error, sizeof error);
    ::_exit(127);
  }
  ::dup2(input, 0);
  ::dup2(output, 1);
  ::dup2(output, 2);
  // Default dispositions and no blocked signals: the test's own (e.g. ignored SIGPIPE) must not leak in.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) ::sigaction(signal_number, &default_action, nullptr);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  ::sigprocmask(SIG_SETMASK, &no_signals, nullptr);
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

  // Everything the child needs is made before fork: between fork and exec it may only make
  // async-signal-safe calls (the test is multi-threaded).
  const auto program = program_path(argv.at(0));
  auto environment = merged_environment(extra_env);
  auto env_pointers = c_strings(environment);
  auto arg_pointers = c_strings(argv);
  const pid_t parent = ::getpid();
  int exec_errors[2];  // the child writes errno here when exec fails; close-on-exec closes it otherwise
  if (::pipe2(exec_errors, O_CLOEXEC) != 0) throw std::runtime_error("cannot start " + argv[0] + ": no pipe");

  child.pid_ = ::fork();
  if (child.pid_ < 0) {
    const int error = errno;
    ::close(exec_errors[0]);
    ::close(exec_errors[1]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(error));
  }
  if (child.pid_ == 0) {
    ::close(exec_errors[0]);
    become_child(parent, child.log_file_.c_str(), exec_errors[1]);
    ::execve(program.c_str(), arg_pointers.data(), env_pointers.data());
    const int error = errno;
    [[maybe_unused]] const auto written = ::write(exec_errors[1], &error, sizeof error);
    ::_exit(127);
  }
  ::close(exec_errors[1]);
  int error = 0;
  ssize_t got;
  do got = ::read(exec_errors[0], &error, sizeof error);
  while (got < 0 && errno == EINTR);
  ::close(exec_errors[0]);
  if (got == sizeof error) {
    child.wait_exit(std::chrono::seconds(10));
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(error));
  }
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
