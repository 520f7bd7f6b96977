#pragma once
// Multiplexed connections to one Redis (REDIS_MAX_CONNECTIONS of them; on a cluster, a master's share
// of them) used round-robin. A request goes to the next ready connection; when none is ready it
// completes at once with "unavailable".
#include <atomic>
#include <memory>
#include <vector>

#include "plugins/redis/connection/command_sink.hpp"
#include "plugins/redis/connection/connection.hpp"
#include "plugins/redis/connection/unavailable.hpp"

namespace routemq::redis {

class ConnectionPool final : public CommandSink {
 public:
  ConnectionPool(asio::any_io_executor executor, const ConnectionSettings& settings, std::size_t size,
                 std::shared_ptr<ClientStats> stats, ConnectionEvents events = {});
  ~ConnectionPool() override;

  void start() override;
  void stop() override;
  bool any_ready() const override;
  std::size_t ready_count() const override;
  void submit(Request&& request) override;
  // The same from a handler on the pool's executor: straight into a connection's queue, no post. A
  // pool still making its first connection (a cluster node just learned) queues the request for it
  // instead of refusing: the connect timeout bounds the wait.
  void submit_on_executor(Request&& request);

 private:
  Connection* next_ready(std::size_t turn);  // round-robin from `turn`; null when none is ready
  std::size_t after(std::size_t turn) const;

  std::vector<std::shared_ptr<Connection>> connections_;
  std::atomic<std::size_t> next_{0};  // submit()'s next turn, from any thread: always < the pool's size
  std::size_t next_on_executor_ = 0;  // submit_on_executor()'s, on the executor: no atomic per command
  std::shared_ptr<ClientStats> stats_;
  Unavailable unavailable_{stats_};
};

}  // namespace routemq::redis
