#include "tests/support/sentinel_group.hpp"

#include <fstream>

#include <fmt/format.h>
#include <stdexcept>

#include "tests/support/free_port.hpp"
#include "tests/support/wait_until.hpp"

namespace routemq::test {
namespace {

bool answers(const std::function<std::string()>& ask, const std::string& wanted) {
  try {
    return ask().find(wanted) != std::string::npos;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

SentinelServer::SentinelServer(std::string master_name, std::uint16_t master_port)
    : server_("sentinel", free_port()), master_name_(std::move(master_name)), master_port_(master_port) {}

// Sentinel rewrites its file as it learns: the file lives in the server's private directory.
void SentinelServer::start() {
  const auto conf = server_.dir() / "sentinel.conf";
  {
    std::ofstream out(conf);
    out << "port " << port() << "\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\nloglevel notice\n"
        << "dir " << server_.dir().path().string() << "\n"
        << "sentinel myid " << id() << "\n"
        << "sentinel monitor " << master_name_ << " 127.0.0.1 " << master_port_ << " 2\n"
        << "sentinel down-after-milliseconds " << master_name_ << " 400\n"
        << "sentinel failover-timeout " << master_name_ << " 2000\n"
        << "sentinel parallel-syncs " << master_name_ << " 1\n";
    for (const auto& line : extra_config) out << line << "\n";
  }
  const std::string binary = std::filesystem::exists("/usr/bin/redis-sentinel") ? "/usr/bin/redis-sentinel" : "redis-sentinel";
  // A Sentinel with requirepass (in extra_config) answers NOAUTH: serving, too.
  server_.start({binary, conf.string()}, [this] {
    return answers([this] { return command({"PING"}); }, "+PONG") || answers([this] { return command({"PING"}); }, "-NOAUTH");
  });
}

std::string SentinelServer::id() const {
  const auto digits = std::to_string(port());
  return std::string(40 - digits.size(), '0') + digits;  // 40 hex digits, unique per port
}

SentinelGroup::SentinelGroup() {
  // A replica is synced at once, not after the 5 s Redis waits by default for more replicas to join.
  const std::string no_sync_delay = "repl-diskless-sync-delay 0";
  servers_.push_back(std::make_unique<RedisServer>(RedisOptions{.extra_config = {no_sync_delay}}));
  servers_[0]->start();
  servers_.push_back(std::make_unique<RedisServer>(RedisOptions{
      .extra_config = {no_sync_delay, "replicaof 127.0.0.1 " + std::to_string(servers_[0]->port())}}));
  servers_[1]->start();
  if (!wait_until([&] { return answers([&] { return replica().command({"INFO", "replication"}); }, "master_link_status:up"); },
                  std::chrono::seconds(10)))
    throw std::runtime_error("the replica did not sync with the master");
  sentinels_.reserve(3);
  for (int i = 0; i < 3; ++i) sentinels_.emplace_back(master_name, servers_[0]->port());
  // Told about each other and the replica up front: found through the master's hello channel, every
  // 2 s, they would need seconds before a failover could happen.
  for (auto& sentinel : sentinels_) {
    sentinel.extra_config.push_back(fmt::format("sentinel known-replica {} 127.0.0.1 {}", master_name, servers_[1]->port()));
    for (const auto& peer : sentinels_)
      if (peer.port() != sentinel.port())
        sentinel.extra_config.push_back(
            fmt::format("sentinel known-sentinel {} 127.0.0.1 {} {}", master_name, peer.port(), peer.id()));
  }
  for (auto& sentinel : sentinels_) sentinel.start();
  const bool agreed = wait_until(
      [&] {
        for (auto& sentinel : sentinels_)
          if (!answers([&] { return sentinel.command({"SENTINEL", "CKQUORUM", master_name}); }, "3 usable")) return false;
        return true;
      },
      std::chrono::seconds(20));
  if (!agreed) throw std::runtime_error("the Sentinels did not find each other:\n" + sentinels_[0].log_text());
}

std::string SentinelGroup::sentinel_list() const {
  std::string list;
  for (const auto& sentinel : sentinels_) list += (list.empty() ? "" : ",") + ("127.0.0.1:" + std::to_string(sentinel.port()));
  return list;
}

std::uint16_t SentinelGroup::master_port_now() {
  std::uint16_t agreed = 0;
  for (auto& sentinel : sentinels_) {
    std::string reply;
    try {
      reply = sentinel.command({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", master_name});
    } catch (const std::exception&) {
      continue;  // a Sentinel that is down has no say
    }
    // *2\r\n$9\r\n127.0.0.1\r\n$5\r\n40001\r\n: the port is the last line.
    const auto end = reply.rfind("\r\n");
    const auto start = reply.rfind("\r\n", end - 1);
    if (end == std::string::npos || start == std::string::npos) return 0;
    const auto port = static_cast<std::uint16_t>(std::stoi(reply.substr(start + 2, end - start - 2)));
    if (agreed != 0 && port != agreed) return 0;
    agreed = port;
  }
  return agreed;
}

bool SentinelGroup::wait_master_is(std::uint16_t port, std::chrono::milliseconds deadline) {
  return wait_until([&] { return master_port_now() == port; }, deadline);
}

}  // namespace routemq::test
