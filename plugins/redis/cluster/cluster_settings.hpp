#pragma once
// How the manager reaches a Redis Cluster: where to start, how to reach each node, how often to ask
// where the slots are.
#include <chrono>
#include <cstddef>
#include <vector>

#include "plugins/redis/connection/connection_settings.hpp"
#include "plugins/redis/protocol/node_address.hpp"

namespace routemq::redis {

struct ClusterSettings {
  std::vector<NodeAddress> seeds;   // some nodes to ask first; the others are learned
  ConnectionSettings node;          // credentials, TLS and timers for every node (its address replaced)
  std::size_t connections_per_node = 1;
  std::chrono::milliseconds refresh_interval{5000};   // the slot map asked again, all being well
  std::chrono::milliseconds unsettled_interval{250};  // and while a slot or a master is missing
};

}  // namespace routemq::redis
