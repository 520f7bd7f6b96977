#pragma once
// The RedisManager's commands on a Redis Cluster. Each master gets a pool of multiplexed connections,
// as one Redis does (auto-pipelined, degrading, reconnecting). A request goes to the master serving
// its keys' slot (command_keys.hpp), a keyless one to any master. MGET, MSET, DEL, UNLINK, EXISTS
// and TOUCH over several slots are split per slot and put back together (slot_split.hpp), and a
// pipeline's commands go, grouped by slot, each group to its slot's master, the replies in the
// pipeline's order; any
// other request over several slots (a transaction, a script) is refused before sending, naming its
// keys. SCAN walks every master
// (scan_cursor.hpp), so keys() and pattern invalidation see the whole cluster. Replies that prove a command did not run are followed
// (redirections.hpp: MOVED, ASK, TRYAGAIN, CLUSTERDOWN, READONLY); a timeout or a lost connection
// is never resent: its outcome is unknown.
//
// The slot map comes from CLUSTER SLOTS, asked of the masters known, then of the seed nodes: at
// start, every few seconds, and at once after a MOVED, a node's lost connection, or a slot that no
// master serves. While a slot's master is down its commands fail at once as "unavailable", as with
// one Redis down, and the other slots keep working.
#include <chrono>
#include <memory>
#include <vector>

#include "core/asio.hpp"
#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/connection/command_sink.hpp"
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

class ClusterPool final : public CommandSink {
 public:
  // Handlers run on `executor`, a strand.
  ClusterPool(asio::any_io_executor executor, ClusterSettings settings, std::shared_ptr<ClientStats> stats);
  ~ClusterPool() override;

  void start() override;
  void stop() override;
  bool any_ready() const override;
  std::size_t ready_count() const override;
  void submit(Request request) override;
  std::vector<SinkNode> nodes() const override;  // the masters known now
  std::string node_for_key(std::string_view key) const override;
  // For connections that may use any master (the subscriber): the same one while it serves and
  // answers, the next after a failure there (connection_settings.hpp's MasterLookup).
  std::shared_ptr<const MasterLookup> any_master() const;

 private:
  class Core;
  std::shared_ptr<Core> core_;
};

}  // namespace routemq::redis
