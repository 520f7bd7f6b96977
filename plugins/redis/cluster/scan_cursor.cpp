#include "plugins/redis/cluster/scan_cursor.hpp"

#include <charconv>

namespace routemq::redis {

std::optional<ClusterCursor> parse_cluster_cursor(std::string_view text) {
  if (text == "0") return ClusterCursor{};
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || dash + 1 == text.size()) return std::nullopt;
  ClusterCursor parsed;
  const auto [end, error] = std::from_chars(text.data(), text.data() + dash, parsed.master);
  if (error != std::errc() || end != text.data() + dash) return std::nullopt;
  parsed.cursor = std::string(text.substr(dash + 1));
  return parsed;
}

std::string next_cluster_cursor(std::size_t master, std::string_view cursor, std::size_t masters) {
  if (cursor != "0") return std::to_string(master) + "-" + std::string(cursor);
  if (master + 1 < masters) return std::to_string(master + 1) + "-0";
  return "0";
}

}  // namespace routemq::redis
