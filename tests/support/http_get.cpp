#include "tests/support/http_get.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <charconv>

namespace routemq::test {

std::string http_raw(std::uint16_t port, const std::string& raw, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(raw.size())) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return response;
}

HttpReply http_get(std::uint16_t port, const std::string& path, const std::string& method,
                   std::chrono::milliseconds timeout) {
  const auto response = http_raw(port, method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout);
  HttpReply reply;
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (response.size() < 12 || !response.starts_with("HTTP/1.1 ")) return reply;
  std::from_chars(response.data() + 9, response.data() + 12, reply.status);
  if (const auto body = response.find("\r\n\r\n"); body != std::string::npos) reply.body = response.substr(body + 4);
  return reply;
}

}  // namespace routemq::test
