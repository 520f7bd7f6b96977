#pragma once
// routemq-cpp in one include: what a service needs to declare its routes, serve them, use Redis from
// them and enable the Redis middleware in YAML.
//
//   #include <routemq/routemq.hpp>
//
//   void add_routes(routemq::App& app) {
//     app.route("devices/{device_id}/telemetry", [](routemq::Context& ctx) -> routemq::awaitable<void> {
//       co_await routemq::redis::manager(ctx).incr("device:" + ctx.param("device_id") + ":count");
//     }).name("telemetry").qos(1);
//   }
//
//   int main(int argc, char** argv) {
//     return routemq::run_cli(argc, argv, {.name = "my-service", .version = "1.0",
//                                          .plugins = [] { return std::vector<std::shared_ptr<routemq::Plugin>>{
//                                                         routemq::middleware::redis_plugin()}; },
//                                          .routes = add_routes,
//                                          .extra_commands = routemq::redis::add_redis_commands});
//   }
//
// Link routemq::routemq (find_package(routemq CONFIG REQUIRED)). Every header below can also be
// included alone, by the path shown. Tests of a service's routes: <routemq/testing.hpp>.

// The framework: the app, routes and groups, the command line, handlers' context, middleware, plugins.
#include "core/app/app.hpp"
#include "core/app/cli.hpp"
#include "core/app/plugin.hpp"
#include "core/handling/context.hpp"
#include "core/handling/invalid_payload.hpp"
#include "core/handling/middleware.hpp"

// Redis: the RedisManager, how a handler reaches it, the operators' commands.
#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/redis_cli.hpp"
#include "plugins/redis/redis_manager.hpp"
#include "plugins/redis/redis_plugin.hpp"

// Patterns built on the RedisManager.
#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/recipes/codec_values.hpp"
#include "plugins/redis/recipes/dedupe_store.hpp"
#include "plugins/redis/recipes/distributed_lock.hpp"
#include "plugins/redis/recipes/encrypted_values.hpp"
#include "plugins/redis/recipes/invalidation.hpp"
#include "plugins/redis/recipes/rate_limiter.hpp"
#include "plugins/redis/recipes/session_store.hpp"
#include "plugins/redis/recipes/values_with_metadata.hpp"
#include "plugins/redis/recipes/write_behind.hpp"
#include "plugins/redis/recipes/write_through.hpp"

// The Redis middleware (rate_limit, dedupe, lock, session) and what they put on a message's context.
#include "middleware/dedupe.hpp"
#include "middleware/lock.hpp"
#include "middleware/rate_limit.hpp"
#include "middleware/register_all.hpp"
#include "middleware/session.hpp"
