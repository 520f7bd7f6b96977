#pragma once
// Reads one YAML mapping key by key, with environment overrides, defaults, validation and a record of the
// effective value. Every key read is "known"; finish() rejects the rest, so a typo is an error, not a
// silently ignored setting:
//
//   SectionReader mqtt(root.child("mqtt"), environment, &effective);
//   auto port = mqtt.integer("port", 1883, {.env = "MQTT_PORT", .min = 1, .max = 65535});
//   auto password = mqtt.string("password", "", {.env = "MQTT_PASSWORD", .secret = true});
//   mqtt.finish();   // "config/app.yaml:3:3: mqtt.prot: unknown key (did you mean 'port'?)"
//
// Precedence: environment variable, then YAML (with ${VAR} interpolation), then the default.
#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config_node.hpp"
#include "core/config/effective_config.hpp"
#include "core/config/environment.hpp"

namespace routemq {

struct StringOptions {
  const char* env = nullptr;           // environment variable overriding the key
  bool secret = false;                 // never printed, never in errors
  std::vector<std::string> one_of{};   // allowed values, when not empty
  bool non_empty = false;
};

struct IntegerOptions {
  const char* env = nullptr;
  long long min = std::numeric_limits<long long>::min();
  long long max = std::numeric_limits<long long>::max();
};

struct NumberOptions {
  const char* env = nullptr;
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

struct BooleanOptions {
  const char* env = nullptr;
};

class SectionReader {
 public:
  // `section` may be undefined or null (all defaults); anything but a mapping is an error.
  SectionReader(ConfigNode section, const Environment& environment, EffectiveConfig* effective = nullptr);

  std::string string(std::string_view key, std::string fallback, const StringOptions& options = {});
  std::optional<std::string> optional_string(std::string_view key, const StringOptions& options = {});
  long long integer(std::string_view key, long long fallback, const IntegerOptions& options = {});
  std::optional<long long> optional_integer(std::string_view key, const IntegerOptions& options = {});
  double number(std::string_view key, double fallback, const NumberOptions& options = {});
  // A number of seconds in YAML (limits in seconds too), as the milliseconds code waits with.
  std::chrono::milliseconds seconds(std::string_view key, double fallback, const NumberOptions& options = {});
  bool boolean(std::string_view key, bool fallback, const BooleanOptions& options = {});
  std::optional<bool> optional_boolean(std::string_view key, const BooleanOptions& options = {});
  std::vector<std::string> string_list(std::string_view key, const StringOptions& options = {});

  // A nested mapping, to read with its own SectionReader.
  ConfigNode section(std::string_view key);
  // Any node, unvalidated (the caller checks it).
  ConfigNode raw(std::string_view key);

  // Throws ConfigError for the first key nobody asked for, with a "did you mean" hint.
  void finish() const;

  const ConfigNode& node() const { return section_; }

 private:
  // A value as text, from the environment or the YAML (interpolated), and where it came from.
  struct RawValue {
    std::string text;
    ValueSource source;
    ConfigNode node;
  };
  std::optional<RawValue> lookup(std::string_view key, const char* env);
  void mark_known(std::string_view key);
  [[noreturn]] void fail(const RawValue& value, const char* env, std::string_view key, std::string_view expected,
                         bool secret = false) const;
  void remember(std::string_view key, const std::string& value, ValueSource source, const char* env,
                bool secret = false);

  ConfigNode section_;
  const Environment& environment_;
  EffectiveConfig* effective_;
  std::vector<std::string> known_;
};

}  // namespace routemq
