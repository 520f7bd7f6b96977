#pragma once
// A YAML node that remembers where it came from (file, line, column) and its key path (`mqtt.tls.ca_file`),
// so every error can point at it. Missing keys give undefined nodes located at their parent.
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace routemq {

struct Location {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string text() const;  // "file:line:column"
};

class ConfigNode {
 public:
  ConfigNode() = default;  // undefined, nowhere (a section nobody wrote)
  ConfigNode(YAML::Node node, std::string path, Location fallback);

  const YAML::Node& yaml() const { return node_; }
  const std::string& path() const { return path_; }
  const Location& location() const { return location_; }

  // Present and not null (`key:` with nothing after it counts as absent).
  bool defined() const { return node_.IsDefined() && !node_.IsNull(); }
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  // "a mapping", "a list", "a value" or "nothing", for error messages.
  std::string kind() const;

  ConfigNode child(std::string_view key) const;  // undefined when absent or when this is not a map
  ConfigNode element(std::size_t index) const;   // of a sequence
  std::size_t size() const { return node_.IsSequence() || node_.IsMap() ? node_.size() : 0; }
  const std::string& scalar() const { return node_.Scalar(); }

  // "file:line:column: path" - the prefix of every error about this node.
  std::string where() const;

 private:
  YAML::Node node_{YAML::NodeType::Undefined};
  std::string path_;
  Location location_;
};

}  // namespace routemq
