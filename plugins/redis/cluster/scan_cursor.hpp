#pragma once
// SCAN over every master of a cluster through one cursor, so that keys(), scan() and pattern
// invalidation work unchanged: the cluster's cursor is "<master>-<that master's cursor>", walking
// the masters in the slot map's order; "0" starts at the first and ends after the last, as on one
// Redis. A cursor taken before the masters changed names a master that may hold other slots now:
// keys may be missed or seen twice, as SCAN allows while slots move.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace routemq::redis {

struct ClusterCursor {
  std::size_t master = 0;
  std::string cursor = "0";  // the master's own
};

// "0", or "<master>-<cursor>"; nullopt for anything else.
std::optional<ClusterCursor> parse_cluster_cursor(std::string_view text);
// The cluster's cursor after `master` (of `masters`) answered with its `cursor`.
std::string next_cluster_cursor(std::size_t master, std::string_view cursor, std::size_t masters);

}  // namespace routemq::redis
