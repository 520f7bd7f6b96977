#include "core/routing/router.hpp"

#include <stdexcept>
#include <unordered_map>

#include "core/routing/topic_filter.hpp"

namespace routemq {
namespace {

constexpr auto end_of_topic = std::string_view::npos;

// Heterogeneous lookup: find a child by string_view without building a std::string per level.
struct LevelHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

// The level starting at `pos`, moving `pos` past it (to end_of_topic after the last level).
std::string_view take_level(std::string_view topic, std::size_t& pos) {
  const auto slash = topic.find('/', pos);
  const auto level = topic.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
  pos = slash == std::string_view::npos ? end_of_topic : slash + 1;
  return level;
}

}  // namespace

struct Router::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>, LevelHash, std::equal_to<>> literal;
  std::unique_ptr<Node> single;          // {name} or +
  std::optional<RouteId> ends_here;      // a route whose last level is this node
  std::optional<RouteId> rest;           // {name...} or # below this node

  // Depth-first: literal, then single-level, then multi-level, so the first hit is the most specific.
  std::optional<RouteId> search(std::string_view topic, std::size_t pos, bool first_level) const {
    if (pos == end_of_topic) return ends_here ? ends_here : rest;  // '#' also matches the parent
    const bool system_topic = first_level && topic[pos] == '$';     // wildcards never match $-topics
    std::size_t next = pos;
    const auto level = take_level(topic, next);
    if (auto child = literal.find(level); child != literal.end())
      if (auto found = child->second->search(topic, next, false)) return found;
    if (system_topic) return std::nullopt;
    if (single)
      if (auto found = single->search(topic, next, false)) return found;
    return rest;
  }
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

RouteId Router::add(std::string_view pattern_text) {
  TopicPattern pattern = TopicPattern::parse(pattern_text);
  const RouteId id = patterns_.size();
  Node* node = root_.get();
  std::optional<RouteId>* slot = &node->ends_here;
  for (const auto& level : pattern.levels()) {
    if (level.is_multi()) {
      slot = &node->rest;
      break;
    }
    std::unique_ptr<Node>& child = level.is_single() ? node->single : node->literal[level.text];
    if (!child) child = std::make_unique<Node>();
    node = child.get();
    slot = &node->ends_here;
  }
  if (*slot)
    throw PatternError("route pattern '" + pattern.text() + "' duplicates '" + patterns_[**slot].text() +
                       "' (both match the topics of '" + pattern.filter() + "')");
  *slot = id;
  patterns_.push_back(std::move(pattern));
  return id;
}

std::optional<RouteId> Router::find(std::string_view topic) const {
  if (!is_valid_topic(topic)) return std::nullopt;
  return root_->search(topic, 0, true);
}

std::optional<RouteMatch> Router::match(std::string_view topic) const {
  auto route = find(topic);
  if (!route) return std::nullopt;
  return RouteMatch{*route, extract_params(patterns_[*route], topic)};
}

Params extract_params(const TopicPattern& pattern, std::string_view topic) {
  Params params;
  std::size_t pos = 0;
  for (const auto& level : pattern.levels()) {
    if (level.kind == LevelKind::multi_param) {
      params.add(level.text, pos == end_of_topic ? std::string() : std::string(topic.substr(pos)));
      break;
    }
    if (level.kind == LevelKind::multi_wildcard || pos == end_of_topic) break;
    const auto value = take_level(topic, pos);
    if (level.kind == LevelKind::param) params.add(level.text, std::string(value));
  }
  return params;
}

std::optional<std::string_view> Params::get(std::string_view name) const {
  for (const auto& [key, value] : values_)
    if (key == name) return std::string_view(value);
  return std::nullopt;
}

const std::string& Params::at(std::string_view name) const {
  for (const auto& [key, value] : values_)
    if (key == name) return value;
  throw std::out_of_range("no route parameter named '" + std::string(name) + "'");
}

}  // namespace routemq
