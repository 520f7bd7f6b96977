#pragma once
// The one answer to "nothing is connected": the request fails at once as Failure::unavailable, nothing
// sent, counted once in the client's statistics. Three layers meet the case, each at its own moment:
// the manager with no pool up (disabled, or disconnected), a pool with no connection ready, and a
// connection that lost its link after it was picked and before it wrote the request. They all decide
// through here, so the failure, its wording and its count are one thing.
#include <memory>

#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/protocol/request_queue.hpp"
#include "plugins/redis/protocol/result.hpp"

namespace routemq::redis {

class Unavailable {
 public:
  enum class Reason { disabled, not_connected };

  explicit Unavailable(std::shared_ptr<ClientStats> stats) : stats_(std::move(stats)) {}

  // The failure for a call refused for `reason`, counted.
  Result refuse(Reason reason) const;
  // Completes `request` with that failure.
  void refuse(Request& request, Reason reason) const;

 private:
  std::shared_ptr<ClientStats> stats_;
};

}  // namespace routemq::redis
