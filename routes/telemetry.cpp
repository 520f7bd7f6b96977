// devices/{device_id}/telemetry: {"msg_id": "...", "value": <number>}
// Stores last_value/last_seen in the hash device:{id}, counts readings in device:{id}:telemetry_count,
// keeps the last 100 values in the list device:{id}:recent, and acknowledges on devices/{id}/ack with
// {"msg_id": ..., "count": n} (count null when Redis is disabled or down: the ack still goes out).
// An invalid payload is answered on devices/{id}/rejected with {"error": "invalid_payload", ...},
// nothing is stored, and it is counted as rejected.
//
// The payload is validated by the route's own middleware, which runs before the YAML middleware
// (rate_limit keyed by device, dedupe keyed by device and payload.msg_id: config/app.yaml): a payload without a
// msg_id is answered as invalid instead of failing dedupe's key template.
#include <chrono>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "middleware/dedupe.hpp"
#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/pipeline.hpp"
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

std::string now_ms() {
  using namespace std::chrono;
  return std::to_string(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// Returns the new reading count, or nullopt when Redis did not take it. The four writes go as one
// pipeline: one request and one wait per reading instead of four (bench_e2e: the handler's Redis
// round trips were most of the route's cost). Dedupe's "done" rides in the same pipeline: a crash
// cannot store a reading without marking its msg_id handled, so its redelivered copy is not counted
// again.
routemq::awaitable<std::optional<long long>> store(routemq::Context& ctx, const std::string& device, double value) {
  const std::string hash = "device:" + device;
  const std::string reading = nlohmann::json(value).dump();
  routemq::redis::Pipeline pipe(routemq::redis::manager(ctx));
  pipe.hset(hash, {{"last_value", reading}, {"last_seen", now_ms()}});
  pipe.lpush(hash + ":recent", {reading});
  pipe.ltrim(hash + ":recent", 0, 99);
  auto count = pipe.incr(hash + ":telemetry_count");
  routemq::middleware::mark_done_in(ctx, pipe);
  co_await pipe.run();
  co_return count.get();
}

constexpr routemq::ContextKey<Reading> valid_reading{"reading"};

// Parses the reading once and hands it to the handler; answers and rejects what is not a reading.
struct ValidateReading {
  routemq::awaitable<void> handle(routemq::Context& ctx, routemq::Next next) {
    auto reading = parse_reading(ctx);
    if (auto* problem = std::get_if<std::string>(&reading)) {
      ctx.publish("devices/" + ctx.param("device_id") + "/rejected",
                  nlohmann::json{{"error", "invalid_payload"}, {"detail", *problem}}, {.qos = 1});
      throw routemq::InvalidPayload(*problem);
    }
    ctx.set(valid_reading, std::get<Reading>(reading));
    co_await next();
  }
};

routemq::awaitable<void> handle_telemetry(routemq::Context& ctx) {
  const auto& device = ctx.param("device_id");
  const auto& reading = *ctx.get(valid_reading);
  const auto count = co_await store(ctx, device, reading.value);
  nlohmann::json ack{{"msg_id", reading.msg_id}, {"count", nullptr}};
  if (count) ack["count"] = *count;
  ctx.publish("devices/" + device + "/ack", ack, {.qos = 1});
}

}  // namespace

void add_telemetry_route(routemq::App& app) {
  // One device's readings in the order it sent them: its stored last value is its last reading, and
  // its rate limit and acks follow its order. Devices run in parallel.
  app.route("devices/{device_id}/telemetry", handle_telemetry)
      .name("telemetry")
      .qos(1)
      .shared()
      .ordered("{device_id}")
      .use(routemq::make_middleware("validate_reading", ValidateReading{}));
}

}  // namespace example
