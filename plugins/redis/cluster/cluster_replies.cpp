#include "plugins/redis/cluster/cluster_replies.hpp"

#include <algorithm>
#include <charconv>

namespace routemq::redis {
namespace {

// One node of a CLUSTER SLOTS range: [ip, port, id, ...]; "" for ip: the node we asked.
std::optional<NodeAddress> node_of(const Reply& entry, const NodeAddress& asked) {
  if (!entry.is_array() || entry.elements.size() < 2) return std::nullopt;
  const auto host = entry.elements[0].as_string();
  const auto port = entry.elements[1].as_integer();
  if (!host || !port || *port < 1 || *port > 65535 || *host == "?") return std::nullopt;
  return NodeAddress{host->empty() ? asked.host : *host, static_cast<int>(*port)};
}

std::optional<std::uint16_t> slot_from(const Reply& reply) {
  const auto number = reply.as_integer();
  if (!number || *number < 0 || *number >= cluster_slots) return std::nullopt;
  return static_cast<std::uint16_t>(*number);
}

}  // namespace

std::optional<SlotMap> SlotMap::from_cluster_slots(const Reply& reply, const NodeAddress& asked, std::string& why) {
  if (!reply.is_array()) {
    why = "CLUSTER SLOTS answered " + reply.describe();
    return std::nullopt;
  }
  SlotMap map;
  map.owner_.fill(nobody);
  for (const auto& range : reply.elements) {
    const auto first = range.is_array() && range.elements.size() >= 3 ? slot_from(range.elements[0]) : std::nullopt;
    const auto last = first ? slot_from(range.elements[1]) : std::nullopt;
    const auto master = last ? node_of(range.elements[2], asked) : std::nullopt;
    if (!master || *last < *first) {
      why = "CLUSTER SLOTS sent a range that is not [first, last, [ip, port, ...] ...]: " + range.describe();
      return std::nullopt;
    }
    const auto index = map.index_of(*master);
    std::fill(map.owner_.begin() + *first, map.owner_.begin() + *last + 1, static_cast<std::uint16_t>(index));
    for (std::size_t i = 3; i < range.elements.size(); ++i)
      if (auto replica = node_of(range.elements[i], asked);
          replica && std::find(map.replicas_[index].begin(), map.replicas_[index].end(), *replica) ==
                         map.replicas_[index].end())
        map.replicas_[index].push_back(std::move(*replica));
  }
  return map;
}

const NodeAddress* SlotMap::master_of(std::uint16_t slot) const {
  if (slot >= cluster_slots || owner_[slot] == nobody) return nullptr;
  return &masters_[owner_[slot]];
}

const std::vector<NodeAddress>& SlotMap::replicas_of(const NodeAddress& master) const {
  static const std::vector<NodeAddress> none;
  const auto found = std::find(masters_.begin(), masters_.end(), master);
  if (found == masters_.end()) return none;
  return replicas_[static_cast<std::size_t>(found - masters_.begin())];
}

std::optional<std::uint16_t> SlotMap::first_slot_of(const NodeAddress& master) const {
  const auto found = std::find(masters_.begin(), masters_.end(), master);
  if (found == masters_.end()) return std::nullopt;
  const auto index = static_cast<std::uint16_t>(found - masters_.begin());
  const auto slot = std::find(owner_.begin(), owner_.end(), index);
  if (slot == owner_.end()) return std::nullopt;
  return static_cast<std::uint16_t>(slot - owner_.begin());
}

std::size_t SlotMap::unserved_slots() const {
  return static_cast<std::size_t>(std::count(owner_.begin(), owner_.end(), nobody));
}

void SlotMap::move(std::uint16_t slot, const NodeAddress& master) {
  if (slot < cluster_slots) owner_[slot] = static_cast<std::uint16_t>(index_of(master));
}

std::size_t SlotMap::index_of(const NodeAddress& master) {
  const auto found = std::find(masters_.begin(), masters_.end(), master);
  if (found != masters_.end()) return static_cast<std::size_t>(found - masters_.begin());
  masters_.push_back(master);
  replicas_.emplace_back();
  return masters_.size() - 1;
}

std::optional<Redirect> redirect_from(const Reply& reply, const NodeAddress& asked) {
  if (!reply.is_error()) return std::nullopt;
  std::string_view text = reply.text;
  Redirect redirect;
  if (text.starts_with("MOVED "))
    redirect.kind = Redirect::Kind::moved;
  else if (text.starts_with("ASK "))
    redirect.kind = Redirect::Kind::ask;
  else
    return std::nullopt;
  text.remove_prefix(text.find(' ') + 1);
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + space, slot);
  if (error != std::errc() || end != text.data() + space || slot >= cluster_slots) return std::nullopt;
  redirect.slot = static_cast<std::uint16_t>(slot);
  auto where = text.substr(space + 1);
  const std::string host_given = where.starts_with(':') ? asked.host : "";  // ":6381": the host we asked
  const auto to = host_given.empty() ? parse_node_address(where) : node_address(host_given, where.substr(1));
  if (!to) return std::nullopt;
  redirect.to = *to;
  return redirect;
}

bool retry_later(const Reply& reply) {
  return reply.is_error() && (reply.text.starts_with("TRYAGAIN") || reply.text.starts_with("CLUSTERDOWN"));
}

}  // namespace routemq::redis
