#pragma once
// What cluster nodes say about where slots live, read from their replies without any I/O:
//
//   CLUSTER SLOTS    -> [[first, last, [ip, port, id, ...], [replica ip, port, id, ...] ...], ...]
//   -MOVED 3999 10.0.0.7:6381   the slot lives there now: update the map, send there
//   -ASK 3999 10.0.0.7:6381     the slot is moving: send this one command there, after ASKING
//   -TRYAGAIN ... / -CLUSTERDOWN ...   not now: try again after a pause
//
// A node that does not know its own address names it "" (the address we asked); such entries, and
// an empty host in a redirection, mean the node that answered.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/protocol/node_address.hpp"
#include "plugins/redis/protocol/reply.hpp"

namespace routemq::redis {

// Which master serves each slot, and the replicas behind each master.
class SlotMap {
 public:
  // From a CLUSTER SLOTS reply given by `asked`; nullopt with `why` for anything malformed.
  static std::optional<SlotMap> from_cluster_slots(const Reply& reply, const NodeAddress& asked, std::string& why);

  const NodeAddress* master_of(std::uint16_t slot) const;  // null: no master serves it
  const std::vector<NodeAddress>& replicas_of(const NodeAddress& master) const;  // empty for no master of the map
  // The first slot `master` serves: a command routed to it reaches that master (INFO of each one).
  std::optional<std::uint16_t> first_slot_of(const NodeAddress& master) const;
  const std::vector<NodeAddress>& masters() const { return masters_; }
  std::size_t unserved_slots() const;
  // After MOVED: `slot` is served by `master` from now on.
  void move(std::uint16_t slot, const NodeAddress& master);

 private:
  std::size_t index_of(const NodeAddress& master);

  static constexpr std::uint16_t nobody = 0xffff;
  std::vector<NodeAddress> masters_;
  std::vector<std::vector<NodeAddress>> replicas_;  // per master, same index
  std::array<std::uint16_t, cluster_slots> owner_{};  // index into masters_, or nobody
};

struct Redirect {
  enum class Kind { moved, ask };
  Kind kind = Kind::moved;
  std::uint16_t slot = 0;
  NodeAddress to;
};

// A MOVED or ASK error from `asked`; nullopt for any other reply.
std::optional<Redirect> redirect_from(const Reply& reply, const NodeAddress& asked);
// TRYAGAIN (a multi-key command during a slot's move) or CLUSTERDOWN: worth retrying after a pause.
bool retry_later(const Reply& reply);

}  // namespace routemq::redis
