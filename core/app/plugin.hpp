#pragma once
// A plugin adds capabilities to an app: services for handlers (ctx.service<T>()), middleware factories
// for YAML, and a lifecycle. Plugins are compiled in and registered by name (see cli.hpp); each reads its
// own top-level YAML section (e.g. `cache:`) and decides there whether it is enabled.
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

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string name() const = 0;
  // Reads the plugin's section (possibly undefined) with env overrides; throws ConfigError on bad values.
  virtual void configure(const ConfigNode& section, const Environment& environment, EffectiveConfig& effective) = 0;
  // Called once after configure: offer services and middleware factories.
  virtual void provide(Services& services, MiddlewareRegistry& middleware) = 0;
  // Start background work (connections); must not block on the network.
  virtual void start(asio::io_context& app_context) = 0;
  virtual void stop() = 0;
  virtual PluginHealth health() const = 0;
  // The plugin's figures for /metrics, built at scrape time.
  virtual metrics::Families metrics() const { return {}; }
};

}  // namespace routemq
