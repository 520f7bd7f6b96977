#pragma once
// How the manager reaches a Redis Cluster: where to start, how to reach each node, how often to ask
// where the slots are.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include "plugins/redis/connection/connection_settings.hpp"
#include "plugins/redis/connection/read_from.hpp"
#include "plugins/redis/protocol/node_address.hpp"

namespace routemq::redis {

struct ClusterSettings {
  std::vector<NodeAddress> seeds;   // some nodes to ask first; the others are learned
  ConnectionSettings node;          // credentials, TLS and timers for every node (its address replaced)
  // Shared out among the masters known when each is met, at least one each: a master's pipeline
  // fills fuller on fewer connections (at 1000 coroutines on three masters, one connection each beat
  // four each in every round measured: GET +17 to 44%, SET +10 to 86%, the client's CPU per command
  // -20%), and the setting stays what its name says, the connections the manager keeps.
  std::size_t connections = 4;
  std::chrono::milliseconds refresh_interval{5000};   // the slot map asked again, all being well
  std::chrono::milliseconds unsettled_interval{250};  // and while a slot or a master is missing
  // Where read-only commands go: with replicas, each replica in the slot map gets connections too
  // (connections_per_master of them), made READONLY.
  ReadFrom read_from = ReadFrom::master;
};

// A master's share of `connections` when the cluster has `masters`: at least one.
inline std::size_t connections_per_master(std::size_t connections, std::size_t masters) {
  return std::max<std::size_t>(connections / std::max<std::size_t>(masters, 1), 1);
}

}  // namespace routemq::redis
