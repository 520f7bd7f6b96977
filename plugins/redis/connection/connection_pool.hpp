#pragma once
// REDIS_MAX_CONNECTIONS multiplexed connections used round-robin. A request goes to the next ready
// connection; when none is ready it completes at once with "unavailable".
#include <atomic>
#include <memory>
#include <vector>

#include "plugins/redis/connection/connection.hpp"
#include "plugins/redis/connection/unavailable.hpp"

namespace routemq::redis {

class ConnectionPool {
 public:
  ConnectionPool(asio::any_io_executor executor, const ConnectionSettings& settings, std::size_t size,
                 std::shared_ptr<ClientStats> stats);
  ~ConnectionPool();

  void start();
  void stop();
  bool any_ready() const;
  std::size_t ready_count() const;
  void submit(Request request);

 private:
  std::vector<std::shared_ptr<Connection>> connections_;
  std::atomic<std::size_t> next_{0};
  std::shared_ptr<ClientStats> stats_;
  Unavailable unavailable_{stats_};
};

}  // namespace routemq::redis
