#include "plugins/redis/connection/unavailable.hpp"

namespace routemq::redis {

Result Unavailable::refuse(Reason reason) const {
  stats_->unavailable.fetch_add(1, std::memory_order_relaxed);
  return Result::failed(Failure::unavailable, reason == Reason::disabled ? "Redis is disabled (ENABLE_REDIS=false)"
                                                                         : "Redis is not connected");
}

void Unavailable::refuse(Request& request, Reason reason) const {
  auto failure = refuse(reason);
  if (request.completion) request.completion(std::move(failure));
}

}  // namespace routemq::redis
