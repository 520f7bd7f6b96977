#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace routemq::test {
namespace {

struct Socket {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

sockaddr_in loopback_address(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

std::uint16_t free_port() {
  Socket socket;
  auto address = loopback_address(0);
  socklen_t length = sizeof address;
  if (socket.fd < 0 || ::bind(socket.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(socket.fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("free_port: cannot bind a loopback socket");
  return ntohs(address.sin_port);
}

int listen_on_loopback(std::uint16_t& port, const char* who) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto address = loopback_address(0);
  socklen_t length = sizeof address;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 64) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (listener >= 0) ::close(listener);
    throw std::runtime_error(std::string(who) + ": cannot listen on loopback");
  }
  port = ntohs(address.sin_port);
  return listener;
}

bool port_accepts(std::uint16_t port) {
  Socket socket;
  auto address = loopback_address(port);
  return socket.fd >= 0 && ::connect(socket.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

}  // namespace routemq::test
