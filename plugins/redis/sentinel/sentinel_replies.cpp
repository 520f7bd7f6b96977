#include "plugins/redis/sentinel/sentinel_replies.hpp"

#include <algorithm>

#include "core/config/text.hpp"

namespace routemq::redis {
namespace {

// A field of a flat [name, value, name, value ...] array.
std::optional<std::string_view> field(const Reply& entry, std::string_view name) {
  for (std::size_t i = 0; i + 1 < entry.elements.size(); i += 2)
    if (entry.elements[i].text == name) return entry.elements[i + 1].text;
  return std::nullopt;
}

}  // namespace

std::optional<NodeAddress> master_address_from(const Reply& reply) {
  if (!reply.is_array() || reply.elements.size() != 2) return std::nullopt;
  return node_address(reply.elements[0].text, reply.elements[1].text);
}

std::vector<NodeAddress> sentinel_addresses_from(const Reply& reply) {
  std::vector<NodeAddress> found;
  if (!reply.is_array()) return found;
  for (const auto& entry : reply.elements) {
    const auto ip = field(entry, "ip");
    const auto port = field(entry, "port");
    if (!ip || !port) continue;
    if (auto address = node_address(*ip, *port)) found.push_back(std::move(*address));
  }
  return found;
}

std::vector<NodeAddress> replica_addresses_from(const Reply& reply) {
  std::vector<NodeAddress> found;
  if (!reply.is_array()) return found;
  for (const auto& entry : reply.elements) {
    const auto ip = field(entry, "ip");
    const auto port = field(entry, "port");
    const auto flags = split(field(entry, "flags").value_or(""), ',');
    const auto unusable = [](std::string_view flag) { return flag == "s_down" || flag == "o_down" || flag == "disconnected"; };
    if (!ip || !port || std::any_of(flags.begin(), flags.end(), unusable)) continue;
    if (auto address = node_address(*ip, *port)) found.push_back(std::move(*address));
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
  return node_address(words[3], words[4]);
}

}  // namespace routemq::redis
