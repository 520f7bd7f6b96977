#include "core/config/config_node.hpp"

#include <fmt/format.h>

namespace routemq {
namespace {

// yaml-cpp answers a missing key with an "invalid" node whose every query throws; use a plain undefined one.
YAML::Node defined_or_undefined(const YAML::Node& node) {
  return node.IsDefined() ? node : YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace

std::string Location::text() const {
  if (line == 0) return file.empty() ? "<defaults>" : file;
  return fmt::format("{}:{}:{}", file, line, column);
}

ConfigNode::ConfigNode(YAML::Node node, std::string path, Location fallback)
    : node_(std::move(node)), path_(std::move(path)), location_(std::move(fallback)) {
  if (node_.IsDefined() && node_.Mark().line >= 0) {
    location_.line = node_.Mark().line + 1;
    location_.column = node_.Mark().column + 1;
  }
}

std::string ConfigNode::kind() const {
  if (!defined()) return "nothing";
  if (node_.IsMap()) return "a mapping";
  if (node_.IsSequence()) return "a list";
  return "a value";
}

ConfigNode ConfigNode::child(std::string_view key) const {
  const std::string child_path = path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  if (!node_.IsMap()) return ConfigNode(YAML::Node(YAML::NodeType::Undefined), child_path, location_);
  const YAML::Node& self = node_;  // const access: never inserts the key
  return ConfigNode(defined_or_undefined(self[std::string(key)]), child_path, location_);
}

ConfigNode ConfigNode::element(std::size_t index) const {
  const YAML::Node& self = node_;
  return ConfigNode(defined_or_undefined(self[index]), fmt::format("{}[{}]", path_, index), location_);
}

std::string ConfigNode::where() const {
  return path_.empty() ? location_.text() : fmt::format("{}: {}", location_.text(), path_);
}

}  // namespace routemq
