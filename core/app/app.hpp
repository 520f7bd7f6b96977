#pragma once
// The application: routes declared in C++, tuned in YAML, served from an MQTT broker.
//
//   routemq::App app(config, environment, plugins);
//   app.route("devices/{device_id}/telemetry", handle_telemetry).name("telemetry").qos(1).shared();
//   auto admin = app.group("admin");            // topics under admin/, with their own middleware
//   admin.use(make_middleware("audit", Audit{}));
//   admin.route("users/{user_id}", handle_user).name("admin_user");
//   return app.run();                           // until SIGINT/SIGTERM, then drains and disconnects
//
// Middleware order for a route: app.use(...) in code, then the YAML global `middleware:` list, then each
// enclosing group's middleware from the outermost, then the route's own (code, then YAML `routes.<name>`).
// YAML `routes.<name>` can also override qos and shared, or disable the route (enabled: false).
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/app/app_stats.hpp"
#include "core/app/in_flight_limit.hpp"
#include "core/app/plugin.hpp"
#include "core/config/app_config.hpp"
#include "core/handling/middleware.hpp"
#include "core/http/http_message.hpp"
#include "core/metrics/family.hpp"
#include "core/mqtt/acknowledgement.hpp"
#include "core/handling/middleware_registry.hpp"
#include "core/routing/router.hpp"

namespace routemq {

class MqttClient;

// What `routemq routes` shows, one per route.
struct RouteInfo {
  std::string name;
  std::string pattern;
  std::string subscription;  // the filter sent to the broker
  int qos = 0;
  bool shared = false;
  std::string ordered_by;  // the order key's template; empty: unordered
  std::vector<std::string> middleware;  // in order
};

class App;
struct AdmittedMessage;

// Options of one route, set fluently after app.route(...).
class RouteBuilder {
 public:
  RouteBuilder& name(std::string name);
  RouteBuilder& qos(int qos);          // 0, 1 or 2 (default 0)
  RouteBuilder& shared(bool on = true);  // subscribe as $share/<mqtt.group_name>/<filter>
  // Messages with the same key handled one at a time, in arrival order (ordering.hpp). The default:
  // ordered by topic, as MQTT delivers one topic's messages in order.
  RouteBuilder& ordered(std::string key = "{topic}");  // "{device_id}": a route parameter, "{topic}"
  RouteBuilder& unordered();                           // every message at once, finishing in any order
  RouteBuilder& use(Middleware middleware);

 private:
  friend class App;
  friend class Group;
  explicit RouteBuilder(std::size_t definition, App& app) : definition_(definition), app_(&app) {}
  std::size_t definition_;
  App* app_;
};

// Routes under a topic prefix, sharing middleware. Cheap handle; the app owns the group.
class Group {
 public:
  Group& use(Middleware middleware);
  Group group(std::string prefix);
  template <class F>
  RouteBuilder route(std::string pattern, F handler) {
    return add_route(std::move(pattern), make_handler(std::move(handler)));
  }

 private:
  friend class App;
  Group(std::size_t definition, App& app) : definition_(definition), app_(&app) {}
  RouteBuilder add_route(std::string pattern, Handler handler);
  std::size_t definition_;
  App* app_;
};

class App {
 public:
  // Configures every plugin (config errors throw ConfigError here, before anything starts).
  App(AppConfig config, Environment environment, std::vector<std::shared_ptr<Plugin>> plugins = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  template <class F>
  RouteBuilder route(std::string pattern, F handler) {
    return add_route(std::move(pattern), make_handler(std::move(handler)), std::nullopt);
  }
  Group group(std::string prefix);
  App& use(Middleware middleware);  // global, before YAML's global middleware

  Services& services() { return services_; }
  MiddlewareRegistry& middleware_registry() { return middleware_registry_; }
  const AppConfig& config() const { return config_; }
  const Environment& environment() const { return environment_; }

  // Composes routes, YAML overrides and middleware chains. Throws PatternError / ConfigError.
  // run() calls it; `routemq routes` calls it alone.
  void build();
  std::vector<RouteInfo> routes() const;

  // Serves until stop() or SIGINT/SIGTERM; then stops taking messages, drains in-flight handlers up to
  // app.shutdown_timeout, disconnects. Returns the process exit code.
  int run();
  void stop();  // thread-safe, idempotent

  // --- in process, without a broker: what routemq::testing::TestApp is built on. start_in_process()
  // starts what run() starts but the MQTT client, the operations endpoint and the signal handler;
  // deliver() hands a message to the routes as the broker would (routing, ordering, middleware,
  // backpressure: it waits while app.max_in_flight messages are being handled), and what handlers
  // publish or reply goes to `outbox`, from their threads. stop_in_process() drains and stops, as
  // run() does at SIGTERM; the destructor does it too.
  void start_in_process(std::function<void(OutboundMessage)> outbox);
  void deliver(InboundMessage message);
  // Waits until no message is being handled; false if some still are at the deadline.
  bool wait_idle(std::chrono::milliseconds deadline);
  void stop_in_process();

  // For health checks and tests.
  bool mqtt_connected() const;
  bool mqtt_subscribed() const;
  const AppStats& stats() const { return stats_; }
  const RouteStats* route_stats(std::string_view route_name) const;
  std::vector<std::pair<std::string, PluginHealth>> plugin_health() const;
  // Every plugin ok or disabled (none degraded, down or still connecting).
  bool plugins_ready() const;
  const std::string& client_id() const;

  // --- operations: the HTTP endpoint of `metrics:` (see app_operations.cpp)
  // /metrics: the app's own figures, each plugin's, and every source added here (e.g. middleware's).
  void add_metrics_source(std::function<metrics::Families()> source);
  metrics::Families metrics() const;
  // /ready: 200 when MQTT is connected and subscribed and no plugin is down; the body says why not,
  // and names degraded plugins (ready, but serving with defaults).
  http::Response readiness() const;
  http::Response handle_operations(const http::Request& request) const;
  // The bound port of the operations endpoint once run() started it (0 before, or when disabled).
  std::uint16_t operations_port() const { return operations_port_.load(); }

 private:
  friend class Group;
  friend class RouteBuilder;
  struct GroupDefinition;
  struct RouteDefinition;
  struct CompiledRoute;

  RouteBuilder add_route(std::string pattern, Handler handler, std::optional<std::size_t> group);
  RouteDefinition& definition(std::size_t index);
  std::vector<Middleware> middleware_for(const RouteDefinition& route);
  // wait: from Paho's thread or in-process delivery, a thread of its own that may wait for room.
  // at_once: from the native client, on a thread of the io_context: it bounds what it hands over
  // itself, so room is taken without waiting (and the handler spawned without a post first).
  enum class Admission { wait, at_once };
  void on_message(InboundMessage message, Acknowledgement acknowledgement, Admission admission);
  awaitable<void> handle_in_order(CompiledRoute& route, std::string key, AdmittedMessage first);
  awaitable<void> handle(CompiledRoute& route, AdmittedMessage admitted);
  void publish(OutboundMessage message);
  void wait_for_stop_request();
  void wait_for_plugins(std::chrono::milliseconds deadline);
  // run() and the in-process mode share these: plugins started and workers running the io_context;
  // the handlers in flight finished (up to app.shutdown_timeout), no more taken; everything stopped.
  struct Serving;
  void start_serving(std::function<void(OutboundMessage)> outbox);
  void drain();
  void finish_serving();

  // First, so it is destroyed last: the services plugins provide (a database client and its connections)
  // and the middleware in compiled routes may run on it, and post their last work to it, until they go.
  std::unique_ptr<asio::io_context> io_;
  AppConfig config_;
  Environment environment_;
  std::vector<std::shared_ptr<Plugin>> plugins_;
  Services services_;
  MiddlewareRegistry middleware_registry_;
  std::vector<Middleware> global_middleware_;
  std::deque<GroupDefinition> groups_;
  std::deque<RouteDefinition> definitions_;
  std::vector<std::unique_ptr<CompiledRoute>> compiled_;  // indexed by RouteId
  Router router_;
  bool built_ = false;
  AppStats stats_;
  InFlightLimit in_flight_;
  std::unique_ptr<MqttClient> mqtt_;
  // What other threads (status queries, handlers publishing) see of mqtt_; set once it exists.
  std::atomic<MqttClient*> live_mqtt_{nullptr};
  struct StopSignal;
  std::unique_ptr<StopSignal> stop_signal_;
  std::unique_ptr<Serving> serving_;
  std::function<void(OutboundMessage)> outbox_;  // where handlers' messages go; set before workers start
  std::vector<std::function<metrics::Families()>> metrics_sources_;
  std::atomic<std::uint16_t> operations_port_{0};
};

}  // namespace routemq
