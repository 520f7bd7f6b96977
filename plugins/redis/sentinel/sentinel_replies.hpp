#pragma once
// What Sentinels and servers say about who is master, read from their replies without any I/O:
//
//   SENTINEL GET-MASTER-ADDR-BY-NAME name   -> ["10.0.0.5", "6379"], or nil (unknown name)
//   SENTINEL SENTINELS name                 -> [[ "name", id, "ip", "10.0.0.7", "port", "26379", ... ], ...]
//   SENTINEL REPLICAS name                  -> [[ "ip", "10.0.0.8", "port", "6380", "flags", "slave", ... ], ...]
//   ROLE                                    -> ["master", offset, [...]] or ["slave", ip, port, ...]
//   +switch-master (Pub/Sub on a Sentinel)  -> "name old-ip old-port new-ip new-port"
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/redis/protocol/node_address.hpp"
#include "plugins/redis/protocol/reply.hpp"

namespace routemq::redis {

// The master's address from GET-MASTER-ADDR-BY-NAME; nullopt for nil, an error or a malformed reply.
std::optional<NodeAddress> master_address_from(const Reply& reply);
// The other Sentinels' addresses from SENTINEL SENTINELS (entries without ip and port are skipped).
std::vector<NodeAddress> sentinel_addresses_from(const Reply& reply);
// The replicas worth reading from, from SENTINEL REPLICAS: those Sentinel does not flag as down
// (s_down, o_down) or disconnected.
std::vector<NodeAddress> replica_addresses_from(const Reply& reply);
// The role a server reports ("master", "slave", "sentinel"); empty for a malformed reply.
std::string role_from(const Reply& reply);

// A +switch-master message, when it is about `master_name`: the new master's address.
std::optional<NodeAddress> switched_master_from(std::string_view message, std::string_view master_name);

}  // namespace routemq::redis
