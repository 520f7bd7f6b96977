#include "tests/support/redis_cluster.hpp"

#include <stdexcept>

#include "tests/support/child_process.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/wait_until.hpp"

namespace routemq::test {
namespace {

// Reads the integers and strings of a raw CLUSTER SLOTS reply in order, enough to find a slot's
// master: each range is "*N :first :last *M $ip :port ..." (the test support parses no RESP beyond it).
std::uint16_t master_port_in(const std::string& reply, std::uint16_t slot) {
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < reply.size();) {
    const auto end = reply.find("\r\n", at);
    if (end == std::string::npos) break;
    lines.push_back(reply.substr(at, end - at));
    at = end + 2;
  }
  // A range: ":first", ":last", "*n" (the master), "$len", "ip", ":port".
  for (std::size_t i = 0; i + 5 < lines.size(); ++i) {
    if (lines[i][0] != ':' || lines[i + 1][0] != ':' || lines[i + 2][0] != '*') continue;
    if (i > 0 && lines[i - 1][0] != '*') continue;  // not the start of a range
    const auto first = std::stol(lines[i].substr(1));
    const auto last = std::stol(lines[i + 1].substr(1));
    if (slot >= first && slot <= last && lines[i + 5][0] == ':')
      return static_cast<std::uint16_t>(std::stol(lines[i + 5].substr(1)));
  }
  return 0;
}

RedisOptions node_options() {
  // The bus port on a free port of its own: the default (port + 10000) may be taken or beyond 65535.
  // Slots of a failed master do not stop the others (cluster-require-full-coverage no, as production
  // clusters that want partial availability set it: with yes, every node answers CLUSTERDOWN).
  // A replication ping each second: CLUSTER SLOTS lists a replica only once its offset moved from 0,
  // which with the default period (10 s) and no writes takes ten seconds.
  return {.extra_config = {"cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
                           "cluster-port " + std::to_string(free_port()), "cluster-replica-validity-factor 0",
                           "repl-diskless-sync-delay 0", "repl-ping-replica-period 1",
                           "cluster-require-full-coverage no"}};
}

void run_redis_cli(const std::vector<std::string>& args, const char* what) {
  auto cli = ChildProcess::spawn(args);
  if (!cli.wait_exit(std::chrono::seconds(30)) || cli.exit_code() != 0)
    throw std::runtime_error(std::string(what) + " failed: " + cli.log_text());
}

}  // namespace

RedisCluster::RedisCluster(int masters, int replicas_per_master) {
  const int count = masters * (1 + replicas_per_master);
  for (int i = 0; i < count; ++i) {
    nodes_.push_back(std::make_unique<RedisServer>(node_options()));
    nodes_.back()->start();
  }
  std::vector<std::string> create = {"redis-cli", "--cluster", "create"};
  for (const auto& node : nodes_) create.push_back("127.0.0.1:" + std::to_string(node->port()));
  create.insert(create.end(), {"--cluster-replicas", std::to_string(replicas_per_master), "--cluster-yes"});
  run_redis_cli(create, "redis-cli --cluster create");
  if (!wait_ok()) throw std::runtime_error("the cluster did not reach cluster_state:ok");
  // Replicas in sync, so that a master killed by a test has a replica ready to take over.
  const bool synced = wait_until(
      [&] {
        int in_sync = 0;
        for (auto& node : nodes_) in_sync += node->command({"INFO", "replication"}).find("master_link_status:up") != std::string::npos;
        return in_sync == masters * replicas_per_master;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(50));
  if (!synced) throw std::runtime_error("the cluster's replicas did not sync with their masters");
}

RedisCluster& RedisCluster::shared() {
  static RedisCluster cluster;
  return cluster;
}

RedisServer& RedisCluster::add_master() {
  nodes_.push_back(std::make_unique<RedisServer>(node_options()));
  auto& added = *nodes_.back();
  added.start();
  run_redis_cli({"redis-cli", "--cluster", "add-node", "127.0.0.1:" + std::to_string(added.port()),
                 "127.0.0.1:" + std::to_string(nodes_.front()->port())},
                "redis-cli --cluster add-node");
  if (!wait_ok()) throw std::runtime_error("the cluster did not take the new node in");
  return added;
}

RedisServer* RedisCluster::node_on(std::uint16_t port) {
  for (auto& node : nodes_)
    if (node->port() == port) return node.get();
  return nullptr;
}

std::string RedisCluster::node_list() const {
  std::string list;
  for (const auto& node : nodes_) list += (list.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(node->port());
  return list;
}

std::uint16_t RedisCluster::master_port_of(std::uint16_t slot) {
  for (auto& node : nodes_) {
    if (!node->running()) continue;
    try {
      if (const auto port = master_port_in(node->command({"CLUSTER", "SLOTS"}), slot)) return port;
    } catch (const std::exception&) {  // paused or dying: ask the next
    }
  }
  return 0;
}

bool RedisCluster::wait_ok(std::chrono::milliseconds deadline) {
  return wait_until(
      [&] {
        for (auto& node : nodes_) {
          if (!node->running()) continue;
          try {
            if (node->command({"CLUSTER", "INFO"}).find("cluster_state:ok") == std::string::npos) return false;
          } catch (const std::exception&) {
            return false;
          }
        }
        return true;
      },
      deadline, std::chrono::milliseconds(50));
}

}  // namespace routemq::test
