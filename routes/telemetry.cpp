// devices/{device_id}/telemetry: {"msg_id": "...", "value": <number>}
// Acknowledged on devices/{device_id}/ack with {"msg_id": ...}; an invalid payload is answered on
// devices/{device_id}/rejected with {"error": "invalid_payload", "detail": ...} and counted as rejected.
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "routes/routes.hpp"

namespace example {
namespace {

struct Reading {
  nlohmann::json msg_id;
  double value;
};

// Returns the reading, or the reason the payload is not one.
std::variant<Reading, std::string> parse_reading(routemq::Context& ctx) {
  const auto* json = ctx.try_json();
  if (!json) return "not JSON: " + ctx.json_error();
  if (!json->is_object()) return std::string("expected a JSON object");
  auto msg_id = json->find("msg_id");
  if (msg_id == json->end() || !(msg_id->is_string() || msg_id->is_number_integer()))
    return std::string("'msg_id' must be a string or an integer");
  auto value = json->find("value");
  if (value == json->end() || !value->is_number()) return std::string("'value' must be a number");
  return Reading{*msg_id, value->get<double>()};
}

void handle_telemetry(routemq::Context& ctx) {
  const auto& device = ctx.param("device_id");
  auto reading = parse_reading(ctx);
  if (auto* problem = std::get_if<std::string>(&reading)) {
    ctx.publish("devices/" + device + "/rejected", nlohmann::json{{"error", "invalid_payload"}, {"detail", *problem}},
                {.qos = 1});
    throw routemq::InvalidPayload(*problem);
  }
  ctx.publish("devices/" + device + "/ack", nlohmann::json{{"msg_id", std::get<Reading>(reading).msg_id}},
              {.qos = 1});
}

}  // namespace

void add_telemetry_route(routemq::App& app) {
  app.route("devices/{device_id}/telemetry", handle_telemetry).name("telemetry").qos(1).shared();
}

}  // namespace example
