#pragma once
// The RedisManager a handler or middleware uses for one message: the one the app's RedisPlugin
// offers, else the process-wide redis_manager() (disabled until configured: every call then completes
// at once with its documented default). Core's Context knows nothing of Redis; this is how it is reached.
//
//   auto& redis = redis::manager(ctx);
//   auto count = co_await redis.incr("device:" + ctx.param("device_id") + ":count");
#include "core/handling/context.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

RedisManager& manager(const Context& ctx);

}  // namespace routemq::redis
