#include "middleware/register_all.hpp"

#include "middleware/dedupe.hpp"
#include "middleware/lock.hpp"
#include "middleware/rate_limit.hpp"
#include "middleware/session.hpp"

namespace routemq::middleware {

void register_all(MiddlewareRegistry& registry) {
  register_rate_limit(registry);
  register_dedupe(registry);
  register_lock(registry);
  register_session(registry);
}

}  // namespace routemq::middleware
