#pragma once
// The RedisManager's commands behind Sentinel with redis.read_from a replica (read_from.hpp): the
// master's pool, as without replicas (its connections follow the MasterLocator), and a pool per
// replica the locator names (their connections check ROLE slave). A read-only request goes to a
// ready replica, in turn, or to the master when none is ready; everything else to the master. The
// replicas are followed as the locator tells them: after each master it adopts (a failover: the
// promoted replica is the master now, left out) and every few seconds.
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/asio.hpp"
#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/connection/command_sink.hpp"
#include "plugins/redis/connection/connection_pool.hpp"
#include "plugins/redis/connection/connection_settings.hpp"
#include "plugins/redis/connection/read_from.hpp"
#include "plugins/redis/protocol/node_address.hpp"

namespace routemq::redis {

class MasterLocator;

class SentinelPool final : public CommandSink {
 public:
  // `master`: the settings following `locator` (master_lookup set); `connections` each, master and
  // replicas. Handlers run on `executor`, the locator's strand.
  SentinelPool(asio::any_io_executor executor, ConnectionSettings master, std::size_t connections, ReadFrom read_from,
               std::shared_ptr<ClientStats> stats, MasterLocator& locator);
  ~SentinelPool() override;

  void start() override;
  void stop() override;
  bool any_ready() const override { return master_.any_ready(); }  // the master decides "unavailable"
  std::size_t ready_count() const override { return master_.ready_count(); }
  void submit(Request&& request) override;
  std::vector<SinkNode> replicas() const override;

 private:
  class Replicas;  // the replica pools, shared with the locator's callback (which may outlive this)

  ConnectionPool master_;
  std::shared_ptr<Replicas> replicas_;
};

}  // namespace routemq::redis
