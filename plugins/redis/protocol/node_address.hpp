#pragma once
// Where a Redis server listens, as Sentinels and cluster nodes name one: "host:port".
#include <optional>
#include <string>
#include <string_view>

namespace routemq::redis {

struct NodeAddress {
  std::string host;
  int port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
  friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
  friend auto operator<=>(const NodeAddress&, const NodeAddress&) = default;
};

// "host:port" (IPv6 as [::1]:26379); nullopt when it is not one.
std::optional<NodeAddress> parse_node_address(std::string_view text);
// A host and a port given apart, the port as text (1..65535); nullopt when either is not one.
std::optional<NodeAddress> node_address(std::string_view host, std::string_view port);

}  // namespace routemq::redis
