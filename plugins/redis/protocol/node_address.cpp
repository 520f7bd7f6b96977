#include "plugins/redis/protocol/node_address.hpp"

#include <charconv>

namespace routemq::redis {

std::optional<NodeAddress> node_address(std::string_view host, std::string_view port_text) {
  int port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || error != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
    return std::nullopt;
  return NodeAddress{std::string(host), port};
}

std::optional<NodeAddress> parse_node_address(std::string_view text) {
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    return node_address(text.substr(1, close - 1), text.substr(close + 2));
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return node_address(text.substr(0, colon), text.substr(colon + 1));
}

}  // namespace routemq::redis
