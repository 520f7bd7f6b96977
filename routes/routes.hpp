#pragma once
// The example service: an IoT backend. Each route lives in its own file; this declares them all.
#include "core/app/app.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace example {

void add_telemetry_route(routemq::App& app);  // devices/{device_id}/telemetry
void add_commands_route(routemq::App& app);   // devices/{device_id}/commands/{command}
void add_rpc_route(routemq::App& app);        // rpc/{service} (MQTT 5 request/response, cache-aside)

inline void add_routes(routemq::App& app) {
  add_telemetry_route(app);
  add_commands_route(app);
  add_rpc_route(app);
}

}  // namespace example
