// Middleware order through a real broker: code-global, YAML-global, groups (outermost first), route, YAML-route.
#include <catch2/catch.hpp>

#include "tests/integration/app/app_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"
#include "tests/support/mqtt_probe.hpp"

using namespace routemq;
using namespace routemq::test;
using namespace std::chrono_literals;

namespace {

constexpr ContextKey<std::string> trace_key{"trace"};

// Appends its label to the per-message trace.
struct Tag {
  std::string label;
  awaitable<void> handle(Context& ctx, Next next) {
    auto* trace = ctx.get(trace_key);
    if (!trace) {
      ctx.set(trace_key, std::string());
      trace = ctx.get(trace_key);
    }
    *trace += (trace->empty() ? "" : ",") + label;
    co_await next();
  }
};

void register_tag_factory(App& app) {
  // YAML: `- tag: {label: x}`; the label option is required and validated.
  app.middleware_registry().add("tag", [](const MiddlewareSetup& setup) {
    SectionReader options(setup.options, setup.environment);
    auto label = options.string("label", "", {.non_empty = true});
    options.finish();
    return make_middleware("tag", Tag{label});
  });
}

void publish_trace(Context& ctx) {
  auto* trace = ctx.get(trace_key);
  ctx.publish("trace/" + ctx.route_name(), trace ? *trace : std::string("none"), {.qos = 1});
}

}  // namespace

TEST_CASE("middleware run in the documented order, and a route's chain is listed by routes()") {
  MosquittoServer broker;
  broker.start();
  const std::string yaml =
      "middleware:\n"
      "  - tag: {label: yaml-global}\n"
      "routes:\n"
      "  inner:\n"
      "    middleware:\n"
      "      - tag: {label: yaml-route}\n";
  App app(app_config_for(broker.port(), yaml), Environment());
  register_tag_factory(app);
  app.use(make_middleware("code-global", Tag{"code-global"}));
  auto outer = app.group("site");
  outer.use(make_middleware("outer-group", Tag{"outer-group"}));
  auto inner = outer.group("floor");
  inner.use(make_middleware("inner-group", Tag{"inner-group"}));
  inner.route("{room}/temp", publish_trace).name("inner").qos(1).use(make_middleware("route", Tag{"route"}));
  app.route("plain", publish_trace).name("plain").qos(1);

  app.build();
  auto routes = app.routes();
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].pattern == "site/floor/{room}/temp");
  CHECK(routes[0].subscription == "site/floor/+/temp");
  CHECK(routes[0].middleware ==
        std::vector<std::string>{"code-global", "tag", "outer-group", "inner-group", "route", "tag"});
  CHECK(routes[1].middleware == std::vector<std::string>{"code-global", "tag"});

  RunningApp running(app);
  REQUIRE(running.wait_subscribed());
  MqttProbe probe;
  probe.connect(broker.port());
  probe.subscribe("trace/#", 1);
  probe.publish("site/floor/r1/temp", "20", 1);
  probe.publish("plain", "x", 1);
  auto inner_trace = probe.wait_for_topic("trace/inner", 10s);
  REQUIRE(inner_trace);
  CHECK(inner_trace->payload == "code-global,yaml-global,outer-group,inner-group,route,yaml-route");
  auto plain_trace = probe.wait_for_topic("trace/plain", 10s);
  REQUIRE(plain_trace);
  CHECK(plain_trace->payload == "code-global,yaml-global");
}

TEST_CASE("YAML can disable a route and override its qos and shared flag") {
  const std::string yaml =
      "routes:\n"
      "  a: {qos: 2, shared: true}\n"
      "  b: {enabled: false}\n";
  App app(app_config_for(1883, yaml), Environment());
  app.route("a/{x}", [](Context&) {}).name("a");
  app.route("b/{x}", [](Context&) {}).name("b");
  app.build();
  auto routes = app.routes();
  REQUIRE(routes.size() == 1);
  CHECK(routes[0].qos == 2);
  CHECK(routes[0].shared);
  CHECK(routes[0].subscription == "$share/routemq/a/+");
}

TEST_CASE("YAML naming an unknown route or middleware is a located config error") {
  App unknown_route(app_config_for(1883, "routes:\n  nope: {qos: 1}\n"), Environment());
  unknown_route.route("a", [](Context&) {}).name("a");
  CHECK_THROWS_WITH(unknown_route.build(), Catch::Contains("no route is named 'nope'") && Catch::Contains("test.yaml:"));

  App unknown_middleware(app_config_for(1883, "middleware:\n  - nosuch\n"), Environment());
  unknown_middleware.route("a", [](Context&) {}).name("a");
  CHECK_THROWS_WITH(unknown_middleware.build(), Catch::Contains("unknown middleware 'nosuch'"));

  App duplicate(app_config_for(1883), Environment());
  duplicate.route("a/{x}", [](Context&) {}).name("one");
  duplicate.route("a/+", [](Context&) {}).name("two");
  CHECK_THROWS_WITH(duplicate.build(), Catch::Contains("a/+") && Catch::Contains("a/{x}"));
}
