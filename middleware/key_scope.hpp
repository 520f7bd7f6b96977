#pragma once
// Whose decisions a middleware's keys share. By default each route keeps its own: two routes that
// rate-limit on "{device_id}" have a bucket each, and a msg_id seen on one route is not a duplicate
// on another. `key_scope: all_routes` shares them across every route whose middleware renders the
// same key (one limit for a device whatever it publishes to).
//
//   - rate_limit: {key: "{device_id}", rate: 10}                         # telemetry:d1
//   - rate_limit: {key: "{device_id}", rate: 10, key_scope: all_routes}  # d1
#include <string>
#include <string_view>

#include "core/config/section_reader.hpp"
#include "core/handling/context.hpp"

namespace routemq::middleware {

class KeyScope {
 public:
  // Reads `key_scope: route | all_routes` (default route).
  static KeyScope read(SectionReader& options);

  // Where `key` is stored for this message: "<route>:<key>", the route name's ':' and '\' escaped
  // so that no key a message can render lands in another route's namespace; or `key` itself when
  // shared by all routes.
  std::string apply(const Context& ctx, std::string_view key) const;

 private:
  bool all_routes_ = false;
};

}  // namespace routemq::middleware
