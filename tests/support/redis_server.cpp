#include "tests/support/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "tests/support/free_port.hpp"

namespace routemq::test {
namespace {

std::string encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& arg : args) out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return out;
}

// Bytes of the first complete RESP2 reply in `data`, or 0 when it is not complete yet.
std::size_t complete_reply(const std::string& data, std::size_t pos = 0) {
  const auto line_end = data.find("\r\n", pos);
  if (line_end == std::string::npos) return 0;
  const char type = data[pos];
  const auto after_line = line_end + 2;
  if (type == '+' || type == '-' || type == ':') return after_line - pos;
  const long long count = std::stoll(data.substr(pos + 1, line_end - pos - 1));
  if (type == '$') {
    if (count < 0) return after_line - pos;
    const auto end = after_line + static_cast<std::size_t>(count) + 2;
    return data.size() >= end ? end - pos : 0;
  }
  if (type == '*') {
    std::size_t cursor = after_line;
    for (long long i = 0; i < count; ++i) {
      const auto size = complete_reply(data, cursor);
      if (size == 0) return 0;
      cursor += size;
    }
    return cursor - pos;
  }
  throw std::runtime_error("unexpected RESP type in: " + data);
}

class Connection {
 public:
  Connection(std::uint16_t port, std::chrono::milliseconds timeout) : timeout_(timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("redis on port " + std::to_string(port) + " refused the connection");
  }
  ~Connection() { ::close(fd_); }

  std::string call(const std::vector<std::string>& args) {
    const auto request = encode(args);
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("redis: send failed");
    const auto give_up = std::chrono::steady_clock::now() + timeout_;
    while (true) {
      if (const auto size = complete_reply(buffer_)) {
        std::string reply = buffer_.substr(0, size);
        buffer_.erase(0, size);
        return reply;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
      pollfd poll_fd{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0)
        throw std::runtime_error("redis: no reply within the timeout");
      char chunk[65536];
      const auto received = ::recv(fd_, chunk, sizeof chunk, 0);
      if (received <= 0) throw std::runtime_error("redis: connection closed");
      buffer_.append(chunk, static_cast<std::size_t>(received));
    }
  }

 private:
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

}  // namespace

std::string resp_command(std::uint16_t port, const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  Connection connection(port, timeout);
  return connection.call(args);
}

RedisServer::RedisServer(RedisOptions options)
    : server_("redis", options.port ? options.port : free_port()),
      options_(std::move(options)),
      tls_port_(options_.tls ? free_port() : 0) {}

void RedisServer::start() {
  const auto conf = server_.dir() / "redis.conf";
  {
    std::ofstream out(conf);
    out << "bind 127.0.0.1\nport " << port() << "\nprotected-mode no\ndaemonize no\n"
        << "save \"\"\nappendonly no\ndir " << server_.dir().path().string() << "\nloglevel warning\n";
    if (!options_.password.empty() && options_.username.empty()) out << "requirepass " << options_.password << "\n";
    if (!options_.username.empty())
      out << "user default off\nuser " << options_.username << " on >" << options_.password << " ~* &* +@all\n";
    if (const auto& tls = options_.tls) {
      out << "tls-port " << tls_port_ << "\ntls-cert-file " << tls->certificate.cert << "\ntls-key-file "
          << tls->certificate.key << "\ntls-ca-cert-file " << test_certificates().ca << "\ntls-auth-clients "
          << (tls->require_client_certificate ? "yes" : "no") << "\n";
    }
    if (options_.unix_socket) out << "unixsocket " << socket_path() << "\nunixsocketperm 700\n";
    for (const auto& line : options_.extra_config) out << line << "\n";
  }
  const std::string redis = std::filesystem::exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
  server_.start({redis, conf.string()}, [this] {
    try {
      return command({"PING"}, std::chrono::milliseconds(200)) == "+PONG\r\n";
    } catch (const std::exception&) {
      return false;
    }
  });
}

void RedisServer::restart() {
  stop();
  start();
}

std::string RedisServer::command(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const {
  Connection connection(port(), timeout);
  if (!options_.password.empty()) {
    auto auth = options_.username.empty() ? std::vector<std::string>{"AUTH", options_.password}
                                          : std::vector<std::string>{"AUTH", options_.username, options_.password};
    const auto reply = connection.call(auth);
    if (reply != "+OK\r\n") throw std::runtime_error("redis: AUTH failed: " + reply);
  }
  return connection.call(args);
}

}  // namespace routemq::test
