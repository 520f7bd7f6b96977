#include "tests/support/redis_cluster.hpp"

#include <stdexcept>

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

RedisOptions node_options(std::uint16_t bus_port, const std::optional<RedisTlsOptions>& tls) {
  // The bus port on a free port of its own: the default (port + 10000) may be taken or beyond 65535.
  // Slots of a failed master do not stop the others (cluster-require-full-coverage no, as production
  // clusters that want partial availability set it: with yes, every node answers CLUSTERDOWN).
  // A replication ping each second: CLUSTER SLOTS lists a replica only once its offset moved from 0,
  // which with the default period (10 s) and no writes takes ten seconds.
  RedisOptions options{.extra_config = {"cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
                           "cluster-port " + std::to_string(bus_port), "cluster-replica-validity-factor 0",
                           "repl-diskless-sync-delay 0", "repl-ping-replica-period 1",
                           "cluster-require-full-coverage no"},
                       .tls = tls};
  if (tls) options.extra_config.insert(options.extra_config.end(), {"tls-cluster yes", "tls-replication yes"});
  return options;
}

void expect_ok(const std::string& reply, const std::string& what) {
  if (reply != "+OK\r\n") throw std::runtime_error(what + " answered " + reply);
}

// A bulk string reply's text ("$40\r\n<id>\r\n" -> "<id>").
std::string bulk_text(const std::string& reply) {
  const auto start = reply.find("\r\n");
  if (reply.empty() || reply[0] != '$' || start == std::string::npos) throw std::runtime_error("not a bulk string: " + reply);
  return reply.substr(start + 2, std::stoul(reply.substr(1, start - 1)));
}

}  // namespace

RedisServer& RedisCluster::start_node() {
  const auto bus_port = free_port();
  nodes_.push_back(std::make_unique<RedisServer>(node_options(bus_port, tls_)));
  bus_ports_.push_back(bus_port);
  nodes_.back()->start();
  return *nodes_.back();
}

// Every node told to meet the first, then waited for until each knows them all.
void RedisCluster::meet_all() {
  auto& first = *nodes_.front();
  for (std::size_t i = 1; i < nodes_.size(); ++i)
    expect_ok(first.command({"CLUSTER", "MEET", "127.0.0.1", std::to_string(nodes_[i]->port()), std::to_string(bus_ports_[i])}),
              "CLUSTER MEET");
  const auto known = "cluster_known_nodes:" + std::to_string(nodes_.size()) + "\r\n";
  const bool met = wait_until(
      [&] {
        for (auto& node : nodes_)
          if (node->running() && node->command({"CLUSTER", "INFO"}).find(known) == std::string::npos) return false;
        return true;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(10));
  if (!met) throw std::runtime_error("the cluster's nodes did not all meet");
}

RedisCluster::RedisCluster(int masters, int replicas_per_master, std::optional<RedisTlsOptions> tls) : tls_(std::move(tls)) {
  // What redis-cli --cluster create does, without its one-second waits: masters take equal slot
  // ranges, every node meets the others, each replica follows its master.
  const int count = masters * (1 + replicas_per_master);
  for (int i = 0; i < count; ++i) start_node();
  constexpr int slots = 16384;
  for (int m = 0; m < masters; ++m)
    expect_ok(nodes_[m]->command({"CLUSTER", "ADDSLOTSRANGE", std::to_string(m * slots / masters),
                                  std::to_string((m + 1) * slots / masters - 1)}),
              "CLUSTER ADDSLOTSRANGE");
  meet_all();
  for (int m = 0; m < masters; ++m) {
    const auto master_id = bulk_text(nodes_[m]->command({"CLUSTER", "MYID"}));
    for (int r = 0; r < replicas_per_master; ++r)
      expect_ok(nodes_[masters + m * replicas_per_master + r]->command({"CLUSTER", "REPLICATE", master_id}),
                "CLUSTER REPLICATE");
  }
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
  auto& added = start_node();
  meet_all();
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

// A node that does not answer (paused, dying) fails the check.
bool RedisCluster::every_running_node(const std::function<bool(RedisServer&)>& check) {
  for (auto& node : nodes_) {
    if (!node->running()) continue;
    try {
      if (!check(*node)) return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  return true;
}

bool RedisCluster::every_master_names(std::uint16_t slot, std::uint16_t port) {
  return every_running_node([&](RedisServer& node) {
    return node.command({"ROLE"}).find("master") == std::string::npos ||
           master_port_in(node.command({"CLUSTER", "SLOTS"}), slot) == port;
  });
}

bool RedisCluster::wait_epochs_agree(std::chrono::milliseconds deadline) {
  const auto current_epoch = [](const std::string& info) {
    const auto at = info.find("cluster_current_epoch:");
    return at == std::string::npos ? std::string() : info.substr(at, info.find("\r\n", at) - at);
  };
  return wait_until(
      [&] {
        std::optional<std::string> seen;
        return every_running_node([&](RedisServer& node) {
          const auto epoch = current_epoch(node.command({"CLUSTER", "INFO"}));
          if (epoch.empty() || (seen && *seen != epoch)) return false;
          seen = epoch;
          return true;
        });
      },
      deadline, std::chrono::milliseconds(20));
}

bool RedisCluster::wait_ok(std::chrono::milliseconds deadline) {
  return wait_until(
      [&] {
        return every_running_node([](RedisServer& node) {
          return node.command({"CLUSTER", "INFO"}).find("cluster_state:ok") != std::string::npos;
        });
      },
      deadline, std::chrono::milliseconds(50));
}

}  // namespace routemq::test
