#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <random>
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

// A port the kernel hands out for a bind to port 0 comes from its ephemeral range, the range its
// outgoing connections take their own ports from: with tests connecting in parallel, one of them
// sometimes took the port between our check and the server's bind ("Address already in use", a test
// failing in CI once in a few runs). So the port is drawn below that range (10000-32767, under
// Linux's 32768-60999), at random so parallel tests rarely draw the same one, and checked free; the
// kernel's pick only when none of many draws is. A port is not bound until its server starts, and
// servers are often made before any starts (a Sentinel group's three): none of the last ports handed
// out in this process is handed out again (two Sentinels given one port refuse their configuration).
std::uint16_t free_port() {
  static std::mutex mutex;
  static std::mt19937 draws(std::random_device{}());
  static std::array<std::uint16_t, 256> handed_out{};
  static std::size_t next_slot = 0;
  std::lock_guard lock(mutex);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<std::uint16_t>(std::uniform_int_distribution<int>(10000, 32767)(draws));
    if (std::find(handed_out.begin(), handed_out.end(), port) != handed_out.end()) continue;
    Socket socket;
    auto address = loopback_address(port);
    if (socket.fd < 0 || ::bind(socket.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) continue;
    handed_out[next_slot++ % handed_out.size()] = port;
    return port;
  }
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
