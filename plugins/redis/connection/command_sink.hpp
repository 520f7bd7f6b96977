#pragma once
// Where the RedisManager's commands go: the pool of one Redis (connection_pool.hpp), or a cluster's
// pools, one per master, each command sent to the master of its keys (cluster/cluster_pool.hpp).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/redis/protocol/request_queue.hpp"

namespace routemq::redis {

// One server commands go to, and how many of its connections are ready.
struct SinkNode {
  std::string address;
  std::size_t connections_ready = 0;
  // A cluster master's first slot: a keyless command sent to that slot (Command::to_slot) reaches
  // this master, for what each master must be asked (INFO, DBSIZE). nullopt: it serves none now.
  std::optional<std::uint16_t> first_slot;
};

class CommandSink {
 public:
  virtual ~CommandSink() = default;
  virtual void start() = 0;
  virtual void stop() = 0;                        // fails what is queued with "unavailable"
  virtual bool any_ready() const = 0;             // thread-safe: some command could be sent now
  virtual std::size_t ready_count() const = 0;    // thread-safe: connections ready, for stats
  virtual void submit(Request&& request) = 0;     // thread-safe; completes at once when it cannot be sent
  // Thread-safe: the servers behind, when there are several (a cluster's masters); else empty.
  virtual std::vector<SinkNode> nodes() const { return {}; }
  // Thread-safe: the replicas read from (redis.read_from), when there are any; else empty.
  virtual std::vector<SinkNode> replicas() const { return {}; }
  // Thread-safe: "host:port" of the server that holds `key`, when that depends on the key (a
  // cluster); else empty.
  virtual std::string node_for_key(std::string_view /*key*/) const { return {}; }
};

}  // namespace routemq::redis
