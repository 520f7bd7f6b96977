// rpc/{service}: MQTT 5 request/response. The answer goes to the request's response topic with its
// correlation data:
//   {"service": ..., "request": <the request's JSON>, "result": {...}, "cached": bool}
// Answers are cache-aside in Redis (redis::CacheAside) for 60 seconds, keyed by service and
// request: a repeated request is served from the cache ("cached": true, the same result), and
// identical requests arriving together are computed once. With Redis disabled or down every request
// is computed. A request that is not JSON (or nests deeper than app.max_json_depth) is answered
// {"error": "invalid_payload", "detail": ...} and counted as rejected.
#include <chrono>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "plugins/redis/context_redis.hpp"
#include "plugins/redis/recipes/cache_aside.hpp"
#include "plugins/redis/sha1_hex.hpp"
#include "routes/routes.hpp"

namespace example {
namespace {

constexpr std::chrono::seconds cache_ttl{60};

// What the service computes; in a real backend a database or another system answers here.
nlohmann::json compute(const std::string& service, const nlohmann::json& request) {
  using namespace std::chrono;
  const auto now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return {{"service", service}, {"fields", request.is_object() ? request.size() : 0}, {"computed_at_ms", now_ms}};
}

routemq::awaitable<void> handle_rpc(routemq::Context& ctx) {
  if (!ctx.response_topic()) throw routemq::InvalidPayload("an rpc request needs an MQTT 5 response topic");
  const auto& service = ctx.param("service");
  const auto* parsed = ctx.try_json();
  if (!parsed) {
    ctx.reply(nlohmann::json{{"error", "invalid_payload"}, {"detail", "not JSON: " + ctx.json_error()}});
    throw routemq::InvalidPayload(ctx.json_error());
  }
  const auto& request = *parsed;
  const auto key = "rpc:" + service + ":" + routemq::redis::sha1_hex(request.dump());
  auto loader = [service, request]() -> routemq::awaitable<nlohmann::json> { co_return compute(service, request); };
  routemq::redis::CacheAside answers(routemq::redis::manager(ctx));
  auto result = co_await answers.remember(key, {.ttl = cache_ttl}, loader);
  if (!result.value) throw std::runtime_error(result.error);  // counted as a failure of the route
  nlohmann::json answer{{"service", service}, {"request", request}, {"result", *result.value}};
  answer["cached"] = result.source == routemq::redis::Remembered::Source::cache ||
                     result.source == routemq::redis::Remembered::Source::stale;
  ctx.reply(answer);
}

}  // namespace

// Requests are independent (each carries its own correlation data): answered in parallel, not in
// the order they arrived.
void add_rpc_route(routemq::App& app) { app.route("rpc/{service}", handle_rpc).name("rpc").qos(1).unordered(); }

}  // namespace example
