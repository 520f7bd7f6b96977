#pragma once
// A route's topic pattern: `/`-separated levels, each one of
//
//   text        matches exactly that text (no regex: `.`, `*`, `(` are ordinary characters)
//   {name}      matches any one level, captured as param `name`
//   +           matches any one level
//   {name...}   last level only: the rest of the topic, like `#` (so also the parent itself);
//               captured as the remaining levels joined by '/' ("" for the parent)
//   #           last level only: the rest of the topic
//
// Patterns are validated when parsed; a PatternError names the pattern, the level and the problem.
// Empty levels are rejected: MQTT allows them, but in a route they are nearly always a typo.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace routemq {

struct PatternError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

enum class LevelKind { literal, param, single_wildcard, multi_param, multi_wildcard };

struct Level {
  LevelKind kind;
  std::string text;  // the literal text, or the parameter name ("" for + and #)
  bool is_multi() const { return kind == LevelKind::multi_param || kind == LevelKind::multi_wildcard; }
  bool is_single() const { return kind == LevelKind::param || kind == LevelKind::single_wildcard; }
};

class TopicPattern {
 public:
  static TopicPattern parse(std::string_view pattern);  // throws PatternError

  const std::string& text() const { return text_; }
  const std::vector<Level>& levels() const { return levels_; }
  // The MQTT subscription filter: {x} -> +, {x...} -> #, literals unchanged.
  std::string filter() const;
  std::vector<std::string> param_names() const;
  // Two patterns with the same shape match the same topics (`a/{x}`, `a/{y}`, `a/+`): a duplicate route.
  std::string shape() const { return filter(); }

 private:
  std::string text_;
  std::vector<Level> levels_;
};

}  // namespace routemq
