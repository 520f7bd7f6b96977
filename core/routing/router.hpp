#pragma once
// Finds the route for a concrete topic through a trie of levels: the cost grows with the depth of the
// topic, not with the number of routes.
//
// Precedence, when several routes match: compare level by level from the left; at each level a literal
// beats a single-level match ({name} or +), which beats a multi-level match ({name...} or #). So for the
// topic `devices/42/telemetry`, `devices/42/telemetry` > `devices/42/{kind}` > `devices/{id}/telemetry`
// > `devices/{id}/{kind}` > `devices/#`. Deterministic: registration order never matters.
//
// Topics starting with '$' (`$SYS/...`) only match routes whose first level is that same literal.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/routing/topic_pattern.hpp"

namespace routemq {

using RouteId = std::size_t;  // index in registration order

// A route's captured parameters, in pattern order.
class Params {
 public:
  std::optional<std::string_view> get(std::string_view name) const;
  const std::string& at(std::string_view name) const;  // throws std::out_of_range naming the parameter
  void add(std::string name, std::string value) { values_.emplace_back(std::move(name), std::move(value)); }

  auto begin() const { return values_.begin(); }
  auto end() const { return values_.end(); }
  std::size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

struct RouteMatch {
  RouteId route;
  Params params;
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Registers a pattern (without any $share prefix). Throws PatternError when it is invalid, or when a
  // route of the same shape exists (`a/{x}` and `a/+` match the same topics); the message names both.
  RouteId add(std::string_view pattern);

  const TopicPattern& pattern(RouteId route) const { return patterns_.at(route); }
  std::size_t size() const { return patterns_.size(); }

  // The most specific route for a concrete topic; nullopt when none matches or the topic is not a valid
  // topic (empty, or containing '+', '#' or NUL).
  std::optional<RouteMatch> match(std::string_view topic) const;

  // Only the route, without building its params: the fast path for counting and benchmarks.
  std::optional<RouteId> find(std::string_view topic) const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
  std::vector<TopicPattern> patterns_;
};

// The params of `pattern` for a topic it matches.
Params extract_params(const TopicPattern& pattern, std::string_view topic);

}  // namespace routemq
