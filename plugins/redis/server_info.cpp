#include "plugins/redis/server_info.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <string>

#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

namespace {

using Fields = std::map<std::string, std::string>;

bool is_whole_number(std::string_view text) {
  if (text.starts_with('-')) text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// A field from another server: a whole number on both is summed; anything else keeps the first.
void merge_field(Fields& into, const std::string& name, const std::string& value) {
  const auto [at, inserted] = into.emplace(name, value);
  if (!inserted && is_whole_number(at->second) && is_whole_number(value))
    at->second = std::to_string(std::atoll(at->second.c_str()) + std::atoll(value.c_str()));
}

long long number(const Fields& fields, const std::string& name) {
  const auto it = fields.find(name);
  return it == fields.end() ? 0 : std::atoll(it->second.c_str());
}

}  // namespace

void add_server(ServerView& view, std::string_view info, long long dbsize) {
  Fields* section = &view.memory;
  while (!info.empty()) {
    const auto end = info.find("\r\n");
    const auto line = info.substr(0, end);
    if (line.starts_with("# ")) {
      section = line == "# Memory" ? &view.memory : &view.server_stats;
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      const std::string name(line.substr(0, colon)), value(line.substr(colon + 1));
      // db0:keys=12,expires=3,avg_ttl=0: its keys counted here, for every server added.
      if (name.starts_with("db") && value.starts_with("keys=")) view.total_keys += std::atoll(value.c_str() + 5);
      merge_field(*section, name, value);
    }
    if (end == std::string_view::npos) break;
    info.remove_prefix(end + 2);
  }
  view.dbsize += dbsize;
  ++view.servers;
}

void derive_totals(ServerView& view) {
  view.commands_processed = number(view.server_stats, "total_commands_processed");
  view.connected_clients = number(view.server_stats, "connected_clients");
  const auto hits = number(view.server_stats, "keyspace_hits"), misses = number(view.server_stats, "keyspace_misses");
  view.server_hit_rate = hits + misses > 0 ? static_cast<double>(hits) / static_cast<double>(hits + misses) : 0;
}

}  // namespace routemq::redis
