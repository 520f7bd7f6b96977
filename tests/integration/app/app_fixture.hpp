#pragma once
// An in-process App served on a background thread against a real mosquitto, for integration tests.
#include <atomic>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "core/app/app.hpp"
#include "core/config/app_config.hpp"
#include "tests/support/wait_until.hpp"

namespace routemq::test {

inline AppConfig app_config_for(std::uint16_t broker_port, const std::string& extra_yaml = "",
                                std::map<std::string, std::string> env = {}) {
  const std::string yaml = fmt::format(
      "app:\n  workers: 2\n  shutdown_timeout: 10\n  log_level: warn\n"
      "mqtt:\n  broker: 127.0.0.1\n  port: {}\n  reconnect:\n    min_delay: 0.1\n    max_delay: 0.5\n{}",
      broker_port, extra_yaml);
  // The MQTT behaviour tests ([mqtt]) run once with each client: CTest sets MQTT_CLIENT for the second run.
  if (const char* client = std::getenv("MQTT_CLIENT"); client && !env.count("MQTT_CLIENT")) env["MQTT_CLIENT"] = client;
  return load_app_config_text(yaml, "test.yaml", Environment(std::move(env)), {"redis"});
}

// Runs app.run() on its own thread; stops it and joins on destruction.
class RunningApp {
 public:
  explicit RunningApp(App& app) : app_(app) {
    thread_ = std::thread([this] { exit_code_ = app_.run(); finished_ = true; });
  }
  ~RunningApp() { stop(); }
  void stop() {
    app_.stop();
    if (thread_.joinable()) thread_.join();
  }
  bool wait_subscribed(std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    return wait_until([&] { return app_.mqtt_subscribed(); }, deadline);
  }
  bool finished() const { return finished_; }
  int exit_code() const { return exit_code_; }

 private:
  App& app_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::atomic<int> exit_code_{-1};
};

}  // namespace routemq::test
