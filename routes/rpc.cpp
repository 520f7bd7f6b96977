// rpc/{service}: MQTT 5 request/response. The answer goes to the request's response topic with its
// correlation data: {"service": ..., "result": <the request's JSON>}.
#include <nlohmann/json.hpp>

#include "routes/routes.hpp"

namespace example {
namespace {

void handle_rpc(routemq::Context& ctx) {
  nlohmann::json answer{{"service", ctx.param("service")}, {"result", ctx.json()}};
  if (!ctx.reply(answer)) throw routemq::InvalidPayload("an rpc request needs an MQTT 5 response topic");
}

}  // namespace

void add_rpc_route(routemq::App& app) { app.route("rpc/{service}", handle_rpc).name("rpc").qos(1); }

}  // namespace example
