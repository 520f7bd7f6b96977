#include "core/config/effective_config.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace routemq {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

std::string origin(const EffectiveValue& value) {
  switch (value.source) {
    case ValueSource::environment: return "env " + value.variable;
    case ValueSource::yaml: return "yaml";
    case ValueSource::generated: return "generated";
    case ValueSource::defaults: break;
  }
  return "default";
}

// Plain scalars stay bare; anything YAML could misread is double-quoted.
std::string yaml_scalar(const std::string& value) {
  if (value.starts_with('[') && value.ends_with(']')) return value;  // lists are recorded as flow lists
  const bool plain = !value.empty() && value.find_first_of(":#{}[],&*!|>'\"%@`\n") == std::string::npos &&
                     value.front() != ' ' && value.back() != ' ' && value.front() != '-';
  if (plain) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    if (c == '\n') {
      quoted += "\\n";
      continue;
    }
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

void EffectiveConfig::record(EffectiveValue value, bool secret) {
  if (secret && !value.value.empty()) value.value = "***";
  auto same_path = [&](const EffectiveValue& existing) { return existing.path == value.path; };
  if (auto it = std::find_if(values_.begin(), values_.end(), same_path); it != values_.end())
    *it = std::move(value);
  else
    values_.push_back(std::move(value));
}

const EffectiveValue* EffectiveConfig::find(std::string_view path) const {
  for (const auto& value : values_)
    if (value.path == path) return &value;
  return nullptr;
}

std::string EffectiveConfig::to_yaml_like_text() const {
  std::string text;
  std::vector<std::string> open;  // the sections printed so far, outermost first
  for (const auto& value : values_) {
    auto parts = split_path(value.path);
    const std::string key = parts.back();
    parts.pop_back();
    std::size_t shared = 0;
    while (shared < open.size() && shared < parts.size() && open[shared] == parts[shared]) ++shared;
    open.resize(shared);
    for (; shared < parts.size(); ++shared) {
      text += fmt::format("{:{}}{}:\n", "", 2 * shared, parts[shared]);
      open.push_back(parts[shared]);
    }
    text += fmt::format("{:{}}{}: {}  # {}\n", "", 2 * parts.size(), key, yaml_scalar(value.value), origin(value));
  }
  return text;
}

}  // namespace routemq
