#include "core/routing/topic_filter.hpp"

namespace routemq {
namespace {

// The level at `pos` and the position after its '/', or npos when it is the last one.
std::string_view next_level(std::string_view text, std::size_t& pos) {
  const auto slash = text.find('/', pos);
  const auto level = text.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
  pos = slash == std::string_view::npos ? std::string_view::npos : slash + 1;
  return level;
}

}  // namespace

bool topic_matches_filter(std::string_view filter, std::string_view topic) {
  if (filter.empty() || !is_valid_topic(topic)) return false;
  if (topic.front() == '$' && (filter.front() == '+' || filter.front() == '#')) return false;
  std::size_t f = 0;
  std::size_t t = 0;
  while (f != std::string_view::npos) {
    const auto filter_level = next_level(filter, f);
    if (filter_level == "#") return f == std::string_view::npos;  // '#' must be last
    if (t == std::string_view::npos) return false;                 // the topic ran out first
    const auto topic_level = next_level(topic, t);
    if (filter_level != "+" && filter_level != topic_level) return false;
  }
  return t == std::string_view::npos;
}

bool is_valid_topic(std::string_view topic) {
  return !topic.empty() && topic.size() <= 65535 && topic.find_first_of(std::string_view("+#\0", 3)) == std::string_view::npos;
}

}  // namespace routemq
