#pragma once
// ServerView's figures from INFO replies, without I/O: one server's, or a cluster's as the sum of its
// masters' (each master holds its own keys and serves its own clients, so counts add up).
#include <string_view>

namespace routemq::redis {

struct ServerView;

// Adds one server's INFO text (memory, clients, stats, keyspace) and DBSIZE to `view`: fields that
// are whole numbers (used_memory, keyspace_hits, connected_clients ...) are summed over the servers
// added; the others (ratios, "_human" sizes, policies) keep the first server's value.
void add_server(ServerView& view, std::string_view info, long long dbsize);

// The figures derived from the summed fields: commands processed, clients, the hit rate.
void derive_totals(ServerView& view);

}  // namespace routemq::redis
