#pragma once
// A Redis Cluster on loopback as production shards one: masters with a replica each, joined as
// `redis-cli --cluster create` joins them (slots, MEET, REPLICATE), with a short cluster-node-timeout so that a failover takes a second or
// two. Every node is a RedisServer: it can be killed, paused and restarted for real.
//
//   RedisCluster cluster;                          // 3 masters + 3 replicas, every slot served
//   cluster.node_list();                           // "127.0.0.1:p1,...,127.0.0.1:p6"
//   cluster.master_port_of(hash_slot("k"));        // who serves a slot now, by CLUSTER SLOTS
//   RedisCluster tls(3, 0, RedisTlsOptions{...});  // TLS between the nodes too; CLUSTER SLOTS names TLS ports
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/redis_server.hpp"

namespace routemq::test {

class RedisCluster {
 public:
  // Starts the nodes, joins them and waits until every node says cluster_state:ok and every replica
  // is in sync (throws std::runtime_error saying which step failed otherwise).
  // With `tls`, each node also serves TLS (tls_port()), its bus and replication run over TLS, and
  // CLUSTER SLOTS names the TLS ports (tls-cluster yes); the plaintext ports stay for command().
  explicit RedisCluster(int masters = 3, int replicas_per_master = 1, std::optional<RedisTlsOptions> tls = {});
  // The one cluster of a test process, started at first use (about two seconds). Tests that change
  // it (move slots, kill nodes) put it back as it was before they end.
  static RedisCluster& shared();

  // A new node joined as a master serving no slot yet (as redis-cli --cluster add-node does).
  RedisServer& add_master();

  std::size_t size() const { return nodes_.size(); }
  RedisServer& node(std::size_t i) { return *nodes_.at(i); }
  RedisServer* node_on(std::uint16_t port);
  std::string node_list() const;
  // The port of the master serving `slot` now, as the first node that answers says; 0 when none does.
  std::uint16_t master_port_of(std::uint16_t slot);
  // Whether every running master says `port` serves `slot`.
  bool every_master_names(std::uint16_t slot, std::uint16_t port);
  // Waits (bounded) until every running node knows the same current epoch: the next config epoch
  // a node takes is then one nobody has.
  bool wait_epochs_agree(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // Waits (bounded) until every running node reports cluster_state:ok.
  bool wait_ok(std::chrono::milliseconds deadline = std::chrono::seconds(20));

 private:
  RedisServer& start_node();
  bool every_running_node(const std::function<bool(RedisServer&)>& check);
  void meet_all();

  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<std::uint16_t> bus_ports_;  // each node's cluster bus, by index
  std::optional<RedisTlsOptions> tls_;
};

}  // namespace routemq::test
