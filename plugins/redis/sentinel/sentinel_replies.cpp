#include "plugins/redis/sentinel/sentinel_replies.hpp"

#include <charconv>

#include "core/config/text.hpp"

namespace routemq::redis {
namespace {

std::optional<int> port_from(std::string_view text) {
  int port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) return std::nullopt;
  return port;
}

std::optional<NodeAddress> address_of(std::string_view host, std::string_view port_text) {
  const auto port = port_from(port_text);
  if (host.empty() || !port) return std::nullopt;
  return NodeAddress{std::string(host), *port};
}

// A field of a flat [name, value, name, value ...] array.
std::optional<std::string_view> field(const Reply& entry, std::string_view name) {
  for (std::size_t i = 0; i + 1 < entry.elements.size(); i += 2)
    if (entry.elements[i].text == name) return entry.elements[i + 1].text;
  return std::nullopt;
}

}  // namespace

std::optional<NodeAddress> parse_node_address(std::string_view text) {
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    return address_of(text.substr(1, close - 1), text.substr(close + 2));
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return address_of(text.substr(0, colon), text.substr(colon + 1));
}

std::optional<NodeAddress> master_address_from(const Reply& reply) {
  if (!reply.is_array() || reply.elements.size() != 2) return std::nullopt;
  return address_of(reply.elements[0].text, reply.elements[1].text);
}

std::vector<NodeAddress> sentinel_addresses_from(const Reply& reply) {
  std::vector<NodeAddress> found;
  if (!reply.is_array()) return found;
  for (const auto& entry : reply.elements) {
    const auto ip = field(entry, "ip");
    const auto port = field(entry, "port");
    if (!ip || !port) continue;
    if (auto address = address_of(*ip, *port)) found.push_back(std::move(*address));
  }
  return found;
}

std::string role_from(const Reply& reply) {
  if (!reply.is_array() || reply.elements.empty()) return {};
  return reply.elements[0].text;
}

std::optional<NodeAddress> switched_master_from(std::string_view message, std::string_view master_name) {
  const auto words = split(message, ' ');
  if (words.size() != 5 || words[0] != master_name) return std::nullopt;
  return address_of(words[3], words[4]);
}

}  // namespace routemq::redis
