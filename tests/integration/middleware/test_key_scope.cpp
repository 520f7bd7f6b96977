// Middleware keys are per route unless shared on purpose (key_scope): the chains of two routes run
// against a real redis-server, without a broker.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/handling/middleware.hpp"
#include "core/handling/middleware_registry.hpp"
#include "middleware/register_all.hpp"
#include "tests/integration/redis/redis_fixture.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

// One route's chain: the middleware given in YAML, then a handler that counts what it handles.
class RouteUnderTest {
 public:
  RouteUnderTest(std::string route, const std::string& middleware, const std::string& options,
                 std::shared_ptr<redis::RedisManager> manager)
      : route_(std::move(route)), manager_(manager) {
    services_.provide(std::move(manager));
    MiddlewareRegistry registry;
    middleware::register_all(registry);
    const ConfigNode node(YAML::Load(options), middleware, {"app.yaml", 1, 1});
    auto built = registry.create(MiddlewareSpec{middleware, node}, Environment(), services_, route_);
    chain_ = std::make_unique<Chain>(std::vector{std::move(built)}, make_handler([this](Context&) { ++handled; }));
  }

  void deliver(const std::string& device, const std::string& payload) {
    Params params;
    params.add("device_id", device);
    Context ctx(InboundMessage{"devices/" + device + "/x", payload, 1, false, std::nullopt, std::nullopt, {}, {}},
                std::move(params), route_, [](OutboundMessage) {}, services_);
    auto run = [](Chain& chain, Context& message) -> awaitable<bool> {
      co_await chain.run(message);
      co_return true;
    };
    manager_->run_sync(run(*chain_, ctx));
  }

  int handled = 0;

 private:
  std::string route_;
  std::shared_ptr<redis::RedisManager> manager_;
  Services services_;
  std::unique_ptr<Chain> chain_;
};

struct TwoRoutes {
  explicit TwoRoutes(const std::string& middleware, const std::string& options, const std::string& first = "telemetry",
                     const std::string& second = "status") {
    server.start();
    manager->initialize();
    REQUIRE(manager->wait_connected(10s));
    a = std::make_unique<RouteUnderTest>(first, middleware, options, manager);
    b = std::make_unique<RouteUnderTest>(second, middleware, options, manager);
  }
  RedisServer server;
  std::shared_ptr<redis::RedisManager> manager = std::make_shared<redis::RedisManager>(redis_config_for(server.port()));
  std::unique_ptr<RouteUnderTest> a, b;
};

}  // namespace

TEST_CASE("key scope: two routes rate-limiting on {device_id} keep separate limits, key_scope all_routes shares one") {
  const std::string limit = R"({key: "{device_id}", rate: 2, period: 86400, burst: 2)";
  TwoRoutes separate("rate_limit", limit + "}");
  for (int i = 0; i < 5; ++i) {
    separate.a->deliver("d1", "{}");
    separate.b->deliver("d1", "{}");
  }
  CHECK(separate.a->handled == 2);
  CHECK(separate.b->handled == 2);

  TwoRoutes shared("rate_limit", limit + ", key_scope: all_routes}");
  for (int i = 0; i < 5; ++i) {
    shared.a->deliver("d1", "{}");
    shared.b->deliver("d1", "{}");
  }
  CHECK(shared.a->handled + shared.b->handled == 2);
}

TEST_CASE("key scope: a msg_id seen on one route is not a duplicate on another unless shared") {
  TwoRoutes separate("dedupe", R"({id: "{payload.msg_id}"})");
  for (int i = 0; i < 3; ++i) {
    separate.a->deliver("d1", R"({"msg_id": "1"})");
    separate.b->deliver("d1", R"({"msg_id": "1"})");
  }
  CHECK(separate.a->handled == 1);
  CHECK(separate.b->handled == 1);

  TwoRoutes shared("dedupe", R"({id: "{payload.msg_id}", key_scope: all_routes})");
  shared.a->deliver("d1", R"({"msg_id": "1"})");
  shared.b->deliver("d1", R"({"msg_id": "1"})");
  CHECK(shared.a->handled + shared.b->handled == 1);
}

TEST_CASE("key scope: no key a message renders reaches another route's namespace, whatever the route names") {
  // Route "a" keyed "b:c" and route "a:b" keyed "c" would both be "a:b:c" without escaping.
  TwoRoutes routes("dedupe", R"({id: "{device_id}"})", "a", "a:b");
  routes.a->deliver("b:c", "{}");
  routes.b->deliver("c", "{}");
  CHECK(routes.a->handled == 1);
  CHECK(routes.b->handled == 1);
}
