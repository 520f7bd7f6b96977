#include "plugins/redis/context_redis.hpp"

namespace routemq::redis {

RedisManager& manager(const Context& ctx) {
  if (auto* offered = ctx.services().find<RedisManager>()) return *offered;
  return redis_manager();
}

}  // namespace routemq::redis
