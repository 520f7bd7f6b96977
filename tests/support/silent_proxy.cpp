#include "tests/support/silent_proxy.hpp"

#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace routemq::test {
namespace {

// Waits for `fd` to be readable, up to 50 ms, so loops can notice stop requests.
bool readable(int fd) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, 50) > 0;
}

}  // namespace

SilentProxy::SilentProxy(std::uint16_t target_port) : target_port_(target_port) {
  listener_ = listen_on_loopback(port_, "SilentProxy");
  acceptor_ = std::thread([this] { accept_loop(); });
}

SilentProxy::~SilentProxy() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& thread : threads_) thread.join();
  std::lock_guard lock(mutex_);
  for (int fd : sockets_) ::close(fd);
  ::close(listener_);
}

void SilentProxy::accept_loop() {
  while (!stopping_) {
    if (!readable(listener_)) continue;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto target = loopback_address(target_port_);
    if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
      ::close(client);
      if (server >= 0) ::close(server);
      continue;
    }
    std::lock_guard lock(mutex_);
    sockets_.insert(sockets_.end(), {client, server});
    threads_.emplace_back([this, client, server] { pump(client, server, false); });
    threads_.emplace_back([this, client, server] { pump(server, client, true); });
  }
}

// Copies bytes one way while speaking; while silent, reads nothing, so bytes wait in the kernel and
// the peer sees a connection that is open but never answers.
void SilentProxy::pump(int from, int to, bool toward_client) {
  char buffer[16384];
  while (!stopping_) {
    if (silent_ || (toward_client && holding_replies_)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // idle while black-holed
      continue;
    }
    if (!readable(from) || silent_ || (toward_client && holding_replies_)) continue;  // may have begun while waiting
    const auto received = ::recv(from, buffer, sizeof buffer, 0);
    if (received <= 0) {
      ::shutdown(to, SHUT_WR);
      return;
    }
    if (::send(to, buffer, static_cast<std::size_t>(received), MSG_NOSIGNAL) != received) return;
  }
}

}  // namespace routemq::test
