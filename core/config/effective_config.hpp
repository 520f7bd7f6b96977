#pragma once
// What the service actually runs with, and where each value came from; printed by `routemq check-config`.
#include <string>
#include <vector>

namespace routemq {

enum class ValueSource { defaults, yaml, environment, generated };

struct EffectiveValue {
  std::string path;   // mqtt.tls.ca_file
  std::string value;  // already redacted when secret
  ValueSource source = ValueSource::defaults;
  std::string variable;  // the environment variable, when it came from one
};

class EffectiveConfig {
 public:
  // Records (or replaces) a value. Secrets are stored as "***" (or "" when empty), never in clear.
  void record(EffectiveValue value, bool secret = false);
  const std::vector<EffectiveValue>& values() const { return values_; }
  const EffectiveValue* find(std::string_view path) const;

  // Nested YAML with a comment saying where each value came from.
  std::string to_yaml_like_text() const;

 private:
  std::vector<EffectiveValue> values_;
};

}  // namespace routemq
