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

// The ip and port of each entry of a SENTINEL SENTINELS or REPLICAS reply that `usable` accepts.
template <class Usable>
std::vector<NodeAddress> addresses_in(const Reply& reply, Usable usable) {
  std::vector<NodeAddress> found;
  if (!reply.is_array()) return found;
  for (const auto& entry : reply.elements) {
    const auto ip = field(entry, "ip");
    const auto port = field(entry, "port");
    if (!ip || !port || !usable(entry)) continue;
    if (auto address = node_address(*ip, *port)) found.push_back(std::move(*address));
  }
  return found;
}

// A replica Sentinel does not flag down or disconnected from its master.
bool readable_replica(const Reply& entry) {
  const auto flags = split(field(entry, "flags").value_or(""), ',');
  return std::none_of(flags.begin(), flags.end(), [](std::string_view flag) {
    return flag == "s_down" || flag == "o_down" || flag == "disconnected";
  });
}

}  // namespace

std::optional<NodeAddress> master_address_from(const Reply& reply) {
  if (!reply.is_array() || reply.elements.size() != 2) return std::nullopt;
  return node_address(reply.elements[0].text, reply.elements[1].text);
}

std::vector<NodeAddress> sentinel_addresses_from(const Reply& reply) {
  return addresses_in(reply, [](const Reply&) { return true; });
}

std::vector<NodeAddress> replica_addresses_from(const Reply& reply) { return addresses_in(reply, readable_replica); }

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
