#pragma once
// A plugin adds capabilities to an app: services for handlers (ctx.service<T>()), middleware factories
// for YAML, figures for /metrics, and a lifecycle. Plugins are compiled in and registered by name (see
// cli.hpp); each reads its own top-level YAML section (e.g. `cache:`) and decides there whether it is
// enabled.
//
// Order of calls, all from the thread that builds and runs the app:
//   configure -> provide (both in App's constructor) -> start -> stop (both in App::run, if it runs).
#include <functional>
#include <string>

#include "core/asio.hpp"
#include "core/config/app_config.hpp"
#include "core/config/environment.hpp"
#include "core/config/section_reader.hpp"
#include "core/handling/middleware_registry.hpp"
#include "core/handling/services.hpp"
#include "core/metrics/family.hpp"

namespace routemq {

struct PluginHealth {
  enum class State { ok, degraded, down, disabled };
  State state = State::ok;
  std::string detail;
};

// What the app hands a plugin to live inside it. The io_context is the app's executor: handlers and
// middleware run on its threads, so a plugin whose I/O runs there too serves them without a thread
// hand-off. It outlives every service the plugin provides (the app destroys its services first) but
// runs only between start and stop.
struct PluginContext {
  Services& services;
  MiddlewareRegistry& middleware;
  asio::io_context& io;
  std::function<void(std::function<metrics::Families()>)> add_metrics_source;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string name() const = 0;
  // Reads the plugin's section (possibly undefined) with env overrides; throws ConfigError on bad values.
  virtual void configure(const ConfigNode& section, const Environment& environment, EffectiveConfig& effective) = 0;
  // Called once after configure: offer services and middleware factories.
  virtual void provide(PluginContext& app) = 0;
  // Start background work (connections) on the app's io_context; must not block on the network.
  virtual void start() = 0;
  // After the handlers drained, before the io_context stops: work still queued should fail, not hang.
  virtual void stop() = 0;
  virtual PluginHealth health() const = 0;
  // The plugin's figures for /metrics, built at scrape time.
  virtual metrics::Families metrics() const { return {}; }
};

}  // namespace routemq
