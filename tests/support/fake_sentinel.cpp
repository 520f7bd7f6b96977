#include "tests/support/fake_sentinel.hpp"

#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <stdexcept>
#include <vector>

namespace routemq::test {
namespace {

// The words of one complete RESP command at the front of `pending` (taken off), or none yet.
std::vector<std::string> take_command(std::string& pending) {
  std::vector<std::string> words;
  if (pending.empty() || pending[0] != '*') return words;
  auto line_end = pending.find("\r\n");
  if (line_end == std::string::npos) return words;
  const auto count = std::stoul(pending.substr(1, line_end - 1));
  std::size_t at = line_end + 2;
  for (std::size_t i = 0; i < count; ++i) {
    line_end = pending.find("\r\n", at);
    if (line_end == std::string::npos || pending[at] != '$') return {};
    const auto size = std::stoul(pending.substr(at + 1, line_end - at - 1));
    if (pending.size() < line_end + 2 + size + 2) return {};
    words.push_back(pending.substr(line_end + 2, size));
    at = line_end + 2 + size + 2;
  }
  pending.erase(0, at);
  return words;
}

}  // namespace

FakeSentinel::FakeSentinel(std::uint16_t names_master_port) : master_port_(names_master_port) {
  listener_ = listen_on_loopback(port_, "FakeSentinel");
  server_ = std::thread([this] { serve(); });
}

FakeSentinel::~FakeSentinel() {
  stopping_ = true;
  server_.join();
  ::close(listener_);
}

std::string FakeSentinel::answer(std::string& pending) {
  std::string out;
  for (auto words = take_command(pending); !words.empty(); words = take_command(pending)) {
    const auto& verb = words[0];
    if (verb == "PING") {
      out += "+PONG\r\n";
    } else if (verb == "SENTINEL" && words.size() > 1 && words[1] == "GET-MASTER-ADDR-BY-NAME") {
      ++questions_;
      const auto port = std::to_string(master_port_);
      out += "*2\r\n$9\r\n127.0.0.1\r\n$" + std::to_string(port.size()) + "\r\n" + port + "\r\n";
    } else if (verb == "SENTINEL") {
      out += "*0\r\n";
    } else if (verb == "SUBSCRIBE" && words.size() > 1) {
      out += "*3\r\n$9\r\nsubscribe\r\n$" + std::to_string(words[1].size()) + "\r\n" + words[1] + "\r\n:1\r\n";
    } else {
      out += "-ERR the fake Sentinel does not know " + verb + "\r\n";
    }
  }
  return out;
}

// One thread, poll() with a short timeout so the destructor is heard: accept, read, answer.
void FakeSentinel::serve() {
  std::map<int, std::string> clients;  // socket -> bytes not yet a whole command
  while (!stopping_) {
    std::vector<pollfd> watched{{listener_, POLLIN, 0}};
    for (const auto& client : clients) watched.push_back({client.first, POLLIN, 0});
    if (::poll(watched.data(), watched.size(), 50) <= 0) continue;
    if (watched[0].revents & POLLIN)
      if (const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC); client >= 0) clients[client];
    for (std::size_t i = 1; i < watched.size(); ++i) {
      if (!(watched[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[4096];
      const auto received = ::recv(watched[i].fd, chunk, sizeof chunk, 0);
      if (received <= 0) {
        ::close(watched[i].fd);
        clients.erase(watched[i].fd);
        continue;
      }
      auto& pending = clients[watched[i].fd];
      pending.append(chunk, static_cast<std::size_t>(received));
      const auto reply = answer(pending);
      if (!reply.empty()) (void)::send(watched[i].fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
  }
  for (const auto& client : clients) ::close(client.first);
}

}  // namespace routemq::test
