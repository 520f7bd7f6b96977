#pragma once
// The RedisManager's commands on a Redis Cluster. Each master gets a pool of multiplexed connections,
// as one Redis does (auto-pipelined, degrading, reconnecting). A request goes to the master serving
// its keys' slot (command_keys.hpp), a keyless one to any master. MGET, MSET, DEL, UNLINK, EXISTS
// and TOUCH over several slots are split per slot and put back together (slot_split.hpp); a
// pipeline's commands go, grouped by slot, each group to its slot's master, the replies in the
// pipeline's order; any other request over several slots (a transaction, a script) is refused
// before sending, naming its keys. SCAN walks every master (scan_cursor.hpp), so keys() and pattern
// invalidation see the whole cluster. Replies that prove a command did not run are followed
// (redirections.hpp: MOVED, ASK, TRYAGAIN, CLUSTERDOWN, READONLY); a timeout or a lost connection
// is never resent: its outcome is unknown.
//
// The slot map is learned and kept fresh by slot_map_keeper.hpp. While a slot's master is down its
// commands fail at once as "unavailable", as with one Redis down, and the other slots keep working.
//
// With settings.read_from a replica (read_from.hpp), every replica in the map gets a pool too (its
// connections send READONLY and check ROLE slave), and a read-only request for one slot (a typed
// read; a read-only pipeline's or an MGET's parts) goes to a ready replica of its slot's master, in
// turn, or to the master when none is ready. Replicas follow the map: a promoted one is a master in
// the next map, a new one gets a pool. SCAN keeps to the masters (its cursor walks them).
#include <memory>
#include <vector>

#include "core/asio.hpp"
#include "plugins/redis/cluster/cluster_settings.hpp"
#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/connection/command_sink.hpp"
#include "plugins/redis/connection/connection_settings.hpp"

namespace routemq::redis {

class ClusterPool final : public CommandSink {
 public:
  // Handlers run on `executor`, a strand.
  ClusterPool(asio::any_io_executor executor, ClusterSettings settings, std::shared_ptr<ClientStats> stats);
  ~ClusterPool() override;

  void start() override;
  void stop() override;
  bool any_ready() const override;
  std::size_t ready_count() const override;
  void submit(Request&& request) override;
  std::vector<SinkNode> nodes() const override;  // the masters known now
  std::vector<SinkNode> replicas() const override;  // the replicas read from (read_from a replica)
  std::string node_for_key(std::string_view key) const override;
  // For connections that may use any master (the subscriber): the same one while it serves and
  // answers, the next after a failure there (connection_settings.hpp's MasterLookup).
  std::shared_ptr<const MasterLookup> any_master() const;

 private:
  class Core;
  std::shared_ptr<Core> core_;
};

}  // namespace routemq::redis
