#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace routemq::test {
namespace {

struct Socket {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

}  // namespace

std::uint16_t free_port() {
  Socket socket;
  auto address = loopback(0);
  socklen_t length = sizeof address;
  if (socket.fd < 0 || ::bind(socket.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(socket.fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("free_port: cannot bind a loopback socket");
  return ntohs(address.sin_port);
}

bool port_accepts(std::uint16_t port) {
  Socket socket;
  auto address = loopback(port);
  return socket.fd >= 0 && ::connect(socket.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

}  // namespace routemq::test
