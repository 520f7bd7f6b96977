#pragma once
// MQTT 5 shared subscriptions: `$share/<group>/<filter>`. The broker delivers the real topic, so routes
// match on the plain filter; the prefix only matters when subscribing.
#include <optional>
#include <string>
#include <string_view>

#include "core/routing/topic_pattern.hpp"  // PatternError

namespace routemq {

struct SharedFilter {
  std::string group;
  std::string filter;
};

// "$share/g/a/+/b" -> {"g", "a/+/b"}; a filter without the prefix -> nullopt.
// Throws PatternError on a malformed one (empty group, wildcard in the group, no filter).
std::optional<SharedFilter> split_shared(std::string_view filter);

// "$share/<group>/<filter>"
std::string shared_filter(std::string_view group, std::string_view filter);

}  // namespace routemq
