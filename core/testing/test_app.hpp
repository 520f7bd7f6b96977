#pragma once
// A service's routes tested in process: no broker, and everything else as in production (routing,
// ordering, the YAML's middleware, the plugins and their services). Messages go in with deliver();
// what the handlers published or replied comes back with it.
//
//   routemq::testing::TestApp app({.config_file = "config/app.yaml", .environment = {{"LOG_LEVEL", "warn"}},
//                                  .plugins = my_plugins, .routes = add_routes});
//   auto delivery = app.deliver("devices/d1/telemetry", R"({"msg_id":"m1","value":21.5})", {.qos = 1});
//   CHECK(delivery.outcome == routemq::testing::Outcome::handled);
//   CHECK(delivery.published.at(0).topic == "devices/d1/ack");
//
// A plugin that connects somewhere (a database) is connected before the first delivery when what it
// connects to is up; disabled or down, the routes run degraded, as they would in production.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/app/app.hpp"

namespace routemq::testing {

struct TestAppOptions {
  // The config: a file (the service's own config/app.yaml), or YAML text; neither: every default.
  std::filesystem::path config_file{};
  std::string yaml{};
  // The variables the app and its plugins read instead of the process environment.
  std::map<std::string, std::string> environment{};
  std::function<std::vector<std::shared_ptr<Plugin>>()> plugins{};
  std::function<void(App&)> routes{};
  // How long the constructor waits for every plugin to be ready (connected, or disabled). Zero: not
  // at all, to see the routes before a plugin connects, or while what it connects to is down.
  std::chrono::milliseconds ready_within = std::chrono::seconds(10);
  // How long deliver() waits for the handlers.
  std::chrono::milliseconds handled_within = std::chrono::seconds(10);
};

enum class Outcome {
  handled,       // the chain completed: middleware and handler, or middleware that answered itself
  replayed,      // a duplicate, answered again with what its first copy was answered (dedupe's replay)
  rejected,      // the payload was unacceptable (InvalidPayload): counted and logged, nothing else
  failed,        // middleware or the handler threw anything else
  unmatched,     // no route takes the topic
  still_running  // the handlers had not finished within handled_within
};

struct Delivery {
  Outcome outcome = Outcome::unmatched;
  std::string route;                       // the name of the route that took it; empty when unmatched
  std::vector<OutboundMessage> published;  // what the handlers published or replied meanwhile, in order
};

class TestApp {
 public:
  // Loads the YAML and environment, builds the app and its routes, starts its plugins and workers.
  // Configuration errors throw ConfigError as `routemq run` would report them.
  explicit TestApp(TestAppOptions options);
  ~TestApp();
  TestApp(const TestApp&) = delete;
  TestApp& operator=(const TestApp&) = delete;

  // As if a client had published it with these options (qos, retain, MQTT 5 properties); returns once
  // the handlers are done. One delivery at a time: it waits for everything in flight.
  Delivery deliver(std::string topic, std::string payload, PublishOptions options = {});
  Delivery deliver(InboundMessage message);
  // Hands a message over without waiting (many at once, as a broker would); then wait_idle().
  void send(InboundMessage message);
  // Whether nothing is in flight any more, waiting up to handled_within (or `deadline`) for it.
  bool wait_idle();
  bool wait_idle(std::chrono::milliseconds deadline);

  // Every message the handlers published or replied since the start, in order.
  std::vector<OutboundMessage> published() const;
  // Whether every plugin is ok or disabled (not degraded or down); waits up to `deadline` for it.
  bool wait_ready(std::chrono::milliseconds deadline);

  App& app() { return *app_; }
  // A service a plugin provides (the one the handlers get from ctx.service<T>()).
  template <class T>
  T& service() {
    return app_->services().get<T>();
  }

 private:
  struct Counts;
  Counts counts() const;
  std::size_t published_count() const;

  TestAppOptions options_;
  std::unique_ptr<App> app_;
  mutable std::mutex published_mutex_;
  std::vector<OutboundMessage> published_;
  std::mutex delivering_;  // deliver() calls one after another
};

// InboundMessage from what a client publishes: the message as the app receives it.
InboundMessage as_received(std::string topic, std::string payload, const PublishOptions& options = {});

}  // namespace routemq::testing
