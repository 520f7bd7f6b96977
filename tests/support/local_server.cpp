#include "tests/support/local_server.hpp"

#include <signal.h>

#include <stdexcept>

#include "tests/support/wait_until.hpp"

namespace routemq::test {

LocalServer::LocalServer(std::string name, std::uint16_t port) : name_(std::move(name)), port_(port) {}

void LocalServer::start(const std::vector<std::string>& argv, const std::function<bool()>& ready) {
  if (running()) return;
  process_.reset();
  process_.emplace(ChildProcess::spawn(argv, {}, dir_ / (name_ + ".log")));
  const bool up = wait_until([&] { return !process_->running() || ready(); }, std::chrono::seconds(10));
  if (!up || !process_->running())
    throw std::runtime_error(name_ + " did not start on port " + std::to_string(port_) + ":\n" + log_text());
}

void LocalServer::stop() {
  if (process_) process_->stop();
}

void LocalServer::kill9() {
  if (!process_) return;
  process_->kill9();
  process_->wait_exit(std::chrono::seconds(10));
}

void LocalServer::pause() const {
  if (process_) process_->signal(SIGSTOP);
}

void LocalServer::resume() const {
  if (process_) process_->signal(SIGCONT);
}

bool LocalServer::running() { return process_ && process_->running(); }

}  // namespace routemq::test
