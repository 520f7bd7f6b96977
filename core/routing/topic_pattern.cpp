#include "core/routing/topic_pattern.hpp"

#include <algorithm>

namespace routemq {
namespace {

bool is_param_name(std::string_view name) {
  auto is_start = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  auto is_part = [&](char c) { return is_start(c) || (c >= '0' && c <= '9'); };
  return !name.empty() && is_start(name.front()) && std::all_of(name.begin() + 1, name.end(), is_part);
}

// Builds error messages that always name the pattern.
struct Problem {
  std::string_view pattern;
  [[noreturn]] void raise(std::string_view what) const {
    std::string shown;  // a NUL would cut what() short
    for (char c : pattern) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
    throw PatternError("route pattern '" + shown + "': " + std::string(what));
  }
  [[noreturn]] void at(std::size_t number, std::string_view level, std::string_view what) const {
    raise("level " + std::to_string(number) + " '" + std::string(level) + "' " + std::string(what));
  }
};

Level parse_level(std::string_view level, std::size_t number, const Problem& problem) {
  if (level.empty())
    problem.raise("level " + std::to_string(number) +
                  " is empty (a leading, trailing or double '/'); routes do not allow empty levels");
  if (level == "+") return {LevelKind::single_wildcard, ""};
  if (level == "#") return {LevelKind::multi_wildcard, ""};
  const bool has_wildcard = level.find_first_of("+#") != std::string_view::npos;
  const auto open = level.find('{');
  const auto close = level.find('}');
  if (level.front() == '{' && level.back() == '}') {
    std::string_view name = level.substr(1, level.size() - 2);
    const bool multi = name.ends_with("...");
    if (multi) name.remove_suffix(3);
    if (!is_param_name(name))
      problem.at(number, level,
                 "has an invalid parameter name (expected a letter or '_' then letters, digits or '_')");
    return {multi ? LevelKind::multi_param : LevelKind::param, std::string(name)};
  }
  if (open != std::string_view::npos && close != std::string_view::npos && open < close)
    problem.at(number, level, "mixes a parameter with text; a parameter must be a whole level");
  if (open != std::string_view::npos || close != std::string_view::npos)
    problem.at(number, level, "has an unbalanced '{' or '}'");
  if (has_wildcard) problem.at(number, level, "mixes a wildcard with text; '+' and '#' must be a whole level");
  return {LevelKind::literal, std::string(level)};
}

}  // namespace

TopicPattern TopicPattern::parse(std::string_view pattern) {
  const Problem problem{pattern};
  if (pattern.empty()) problem.raise("is empty");
  if (pattern.find('\0') != std::string_view::npos) problem.raise("contains a NUL character");
  TopicPattern result;
  result.text_ = std::string(pattern);
  std::size_t start = 0;
  while (true) {
    const auto slash = pattern.find('/', start);
    const auto level = pattern.substr(start, slash == std::string_view::npos ? slash : slash - start);
    result.levels_.push_back(parse_level(level, result.levels_.size() + 1, problem));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const auto& levels = result.levels_;
  if (levels.front().kind == LevelKind::literal && levels.front().text == "$share")
    problem.raise("starts with '$share'; declare the route with its plain pattern and mark it shared instead");
  for (std::size_t i = 0; i + 1 < levels.size(); ++i)
    if (levels[i].is_multi())
      problem.at(i + 1, levels[i].kind == LevelKind::multi_wildcard ? "#" : "{" + levels[i].text + "...}",
                 "matches the rest of the topic, so it must be the last level");
  auto names = result.param_names();
  std::sort(names.begin(), names.end());
  if (auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end())
    problem.raise("parameter '" + *dup + "' appears twice; parameter names must be unique");
  return result;
}

std::string TopicPattern::filter() const {
  std::string filter;
  for (const auto& level : levels_) {
    if (!filter.empty()) filter += '/';
    filter += level.kind == LevelKind::literal ? level.text : level.is_single() ? "+" : "#";
  }
  return filter;
}

std::vector<std::string> TopicPattern::param_names() const {
  std::vector<std::string> names;
  for (const auto& level : levels_)
    if (level.kind == LevelKind::param || level.kind == LevelKind::multi_param) names.push_back(level.text);
  return names;
}

}  // namespace routemq
