#pragma once
// Middleware created by name, so YAML can enable them and set their options, per route too:
//
//   middleware:                 # global, in order
//     - rate_limit: {rate: 10, period: 1}
//   routes:
//     telemetry:
//       middleware: [dedupe]
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/config/app_config.hpp"
#include "core/config/environment.hpp"
#include "core/handling/middleware.hpp"

namespace routemq {

// What a factory gets to build one middleware instance.
struct MiddlewareSetup {
  const ConfigNode& options;     // its YAML options (may be undefined: then all defaults)
  const Environment& environment;
  const Services& services;      // what plugins offer, e.g. a cache client
  std::string route_name;        // "" for global middleware
  // The app's MQTT client id. Stable when the broker keeps the session (mqtt.clean_start false): then a
  // message the broker delivers again after a crash comes back to the same id (middleware/dedupe.cpp).
  std::string client_id{};
};

// Builds a middleware, reading and validating its options (throws ConfigError on bad ones).
using MiddlewareFactory = std::function<Middleware(const MiddlewareSetup&)>;

class MiddlewareRegistry {
 public:
  void add(std::string name, MiddlewareFactory factory);
  bool contains(std::string_view name) const;
  std::vector<std::string> names() const;
  // Throws ConfigError naming the spec's location when no factory has that name.
  Middleware create(const MiddlewareSpec& spec, const Environment& environment, const Services& services,
                    const std::string& route_name, const std::string& client_id = {}) const;

 private:
  std::map<std::string, MiddlewareFactory, std::less<>> factories_;
};

}  // namespace routemq
