#include "routes.hpp"

#include <string>

namespace __IDENT__ {
namespace {

// greetings/{name}: {"text": "..."} -> greetings/{name}/reply {"greeting": "Hello, {name}: ..."}.
// A payload that is not such an object is rejected (counted and logged), and nothing is answered.
void greet(routemq::Context& ctx) {
  const auto& json = ctx.json();  // not JSON: InvalidPayload, which rejects the message
  if (!json.is_object() || !json.contains("text") || !json["text"].is_string())
    throw routemq::InvalidPayload("expected {\"text\": string}");
  const auto& name = ctx.param("name");
  ctx.publish("greetings/" + name + "/reply",
              nlohmann::json{{"greeting", "Hello, " + name + ": " + json["text"].get<std::string>()}}, {.qos = 1});
}
@@if redis

// sensors/{sensor_id}/reading: {"msg_id": "...", "value": number} -> counts readings and keeps the
// last value in Redis, then sensors/{sensor_id}/ack {"msg_id": ..., "count": n}. With Redis disabled
// or down the ack still goes out, with "count": null: Redis calls complete at once with defaults.
routemq::awaitable<void> record_reading(routemq::Context& ctx) {
  const auto& json = ctx.json();
  if (!json.is_object() || !json.contains("value") || !json["value"].is_number())
    throw routemq::InvalidPayload("expected {\"msg_id\": string, \"value\": number}");
  auto& redis = routemq::redis::manager(ctx);
  const auto sensor = "sensor:" + ctx.param("sensor_id");
  co_await redis.hset(sensor, "last_value", json["value"].dump());
  const auto count = co_await redis.incr(sensor + ":readings");
  ctx.publish("sensors/" + ctx.param("sensor_id") + "/ack",
              nlohmann::json{{"msg_id", json.value("msg_id", nlohmann::json())},
                             {"count", count ? nlohmann::json(*count) : nlohmann::json()}},
              {.qos = 1});
}
@@end

}  // namespace

void add_routes(routemq::App& app) {
  app.route("greetings/{name}", greet).name("greetings").qos(1);
@@if redis
  app.route("sensors/{sensor_id}/reading", record_reading).name("readings").qos(1).ordered("{sensor_id}");
@@end
}

}  // namespace __IDENT__
