#include "core/config/section_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "core/config/config_error.hpp"
#include "core/config/interpolate.hpp"
#include "core/config/text.hpp"

namespace routemq {
namespace {

std::optional<long long> parse_integer(std::string_view text) {
  text = trim(text);
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::optional<bool> parse_boolean(std::string_view text) {
  std::string lower(trim(text));
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return std::nullopt;
}

template <class T>
std::string range_text(T min, T max, std::string_view noun) {
  // The option structs use the widest values as "no bound".
  constexpr T lowest = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                            : std::numeric_limits<T>::lowest();
  constexpr T highest = std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                                             : std::numeric_limits<T>::max();
  const bool has_min = min != lowest;
  const bool has_max = max != highest;
  if (has_min && has_max) return fmt::format("{} between {} and {}", noun, min, max);
  if (has_min) return fmt::format("{} >= {}", noun, min);
  if (has_max) return fmt::format("{} <= {}", noun, max);
  return std::string(noun);
}

std::string format_number(double value) { return fmt::format("{}", value); }

}  // namespace

SectionReader::SectionReader(ConfigNode section, const Environment& environment, EffectiveConfig* effective)
    : section_(std::move(section)), environment_(environment), effective_(effective) {
  if (section_.defined() && !section_.is_map())
    throw ConfigError(fmt::format("{}: expected a mapping of keys (got {})", section_.where(), section_.kind()));
}

void SectionReader::mark_known(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
}

std::optional<SectionReader::RawValue> SectionReader::lookup(std::string_view key, const char* env) {
  mark_known(key);
  ConfigNode node = section_.child(key);
  if (env) {
    if (auto value = environment_.get(env)) return RawValue{*value, ValueSource::environment, node};
  }
  if (!node.defined()) return std::nullopt;
  if (!node.is_scalar())
    throw ConfigError(fmt::format("{}: expected a single value (got {})", node.where(), node.kind()));
  // Secrets may come from ${VAR}; errors never echo the text either way.
  return RawValue{interpolate(node.scalar(), environment_, node.where()), ValueSource::yaml, node};
}

void SectionReader::fail(const RawValue& value, const char* env, std::string_view key, std::string_view expected,
                         bool secret) const {
  const std::string shown = secret ? "***" : value.text;
  if (value.source == ValueSource::environment)
    throw ConfigError(fmt::format("environment variable {}='{}': expected {} (overrides {})", env, shown, expected,
                                  section_.child(key).path()));
  throw ConfigError(fmt::format("{}: expected {} (got '{}')", value.node.where(), expected, shown));
}

void SectionReader::remember(std::string_view key, const std::string& value, ValueSource source, const char* env,
                             bool secret) {
  if (!effective_) return;
  effective_->record({section_.child(key).path(), value, source,
                      source == ValueSource::environment && env ? env : ""},
                     secret);
}

std::optional<std::string> SectionReader::optional_string(std::string_view key, const StringOptions& options) {
  auto raw = lookup(key, options.env);
  if (!raw) return std::nullopt;
  if (options.non_empty && raw->text.empty()) fail(*raw, options.env, key, "a non-empty string", options.secret);
  if (!options.one_of.empty() &&
      std::find(options.one_of.begin(), options.one_of.end(), raw->text) == options.one_of.end())
    fail(*raw, options.env, key, "one of: " + join(options.one_of, ", "), options.secret);
  remember(key, raw->text, raw->source, options.env, options.secret);
  return raw->text;
}

std::string SectionReader::string(std::string_view key, std::string fallback, const StringOptions& options) {
  if (auto value = optional_string(key, options)) return *value;
  if (options.non_empty && fallback.empty())
    throw ConfigError(fmt::format("{}: is required (expected a non-empty string{})", section_.child(key).where(),
                                  options.env ? fmt::format(", or the environment variable {}", options.env) : ""));
  remember(key, fallback, ValueSource::defaults, nullptr, options.secret);
  return fallback;
}

std::optional<long long> SectionReader::optional_integer(std::string_view key, const IntegerOptions& options) {
  auto raw = lookup(key, options.env);
  if (!raw) return std::nullopt;
  const auto value = parse_integer(raw->text);
  if (!value || *value < options.min || *value > options.max)
    fail(*raw, options.env, key, range_text(options.min, options.max, "an integer"));
  remember(key, std::to_string(*value), raw->source, options.env);
  return value;
}

long long SectionReader::integer(std::string_view key, long long fallback, const IntegerOptions& options) {
  if (auto value = optional_integer(key, options)) return *value;
  remember(key, std::to_string(fallback), ValueSource::defaults, nullptr);
  return fallback;
}

std::chrono::milliseconds SectionReader::seconds(std::string_view key, double fallback, const NumberOptions& options) {
  return std::chrono::milliseconds(static_cast<long long>(number(key, fallback, options) * 1000));
}

double SectionReader::number(std::string_view key, double fallback, const NumberOptions& options) {
  auto raw = lookup(key, options.env);
  if (!raw) {
    remember(key, format_number(fallback), ValueSource::defaults, nullptr);
    return fallback;
  }
  const auto value = parse_number(raw->text);
  if (!value || *value < options.min || *value > options.max)
    fail(*raw, options.env, key, range_text(options.min, options.max, "a number"));
  remember(key, format_number(*value), raw->source, options.env);
  return *value;
}

std::optional<bool> SectionReader::optional_boolean(std::string_view key, const BooleanOptions& options) {
  auto raw = lookup(key, options.env);
  if (!raw) return std::nullopt;
  const auto value = parse_boolean(raw->text);
  if (!value) fail(*raw, options.env, key, "a boolean (true/false, yes/no, on/off, 1/0)");
  remember(key, *value ? "true" : "false", raw->source, options.env);
  return value;
}

bool SectionReader::boolean(std::string_view key, bool fallback, const BooleanOptions& options) {
  if (auto value = optional_boolean(key, options)) return *value;
  remember(key, fallback ? "true" : "false", ValueSource::defaults, nullptr);
  return fallback;
}

std::vector<std::string> SectionReader::string_list(std::string_view key, const StringOptions& options) {
  if (options.env) {
    // A list from the environment is comma-separated.
    if (auto value = environment_.get(options.env)) {
      mark_known(key);
      std::vector<std::string> items;
      std::string_view rest = *value;
      while (true) {
        const auto comma = rest.find(',');
        if (auto item = trim(rest.substr(0, comma)); !item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      remember(key, join(items, ","), ValueSource::environment, options.env, options.secret);
      return items;
    }
  }
  ConfigNode node = raw(key);
  std::vector<std::string> items;
  if (!node.defined()) return items;
  if (!node.is_sequence())
    throw ConfigError(fmt::format("{}: expected a list of values (got {})", node.where(), node.kind()));
  for (std::size_t i = 0; i < node.size(); ++i) {
    ConfigNode item = node.element(i);
    if (!item.is_scalar())
      throw ConfigError(fmt::format("{}: expected a value (got {})", item.where(), item.kind()));
    items.push_back(interpolate(item.scalar(), environment_, item.where()));
    if (options.non_empty && items.back().empty())
      throw ConfigError(fmt::format("{}: expected a non-empty string", item.where()));
  }
  remember(key, join(items, ","), ValueSource::yaml, nullptr, options.secret);
  return items;
}

ConfigNode SectionReader::section(std::string_view key) {
  ConfigNode node = raw(key);
  if (node.defined() && !node.is_map())
    throw ConfigError(fmt::format("{}: expected a mapping of keys (got {})", node.where(), node.kind()));
  return node;
}

ConfigNode SectionReader::raw(std::string_view key) {
  mark_known(key);
  return section_.child(key);
}

void SectionReader::finish() const {
  if (!section_.defined()) return;
  for (const auto& entry : section_.yaml()) {
    const std::string key = entry.first.as<std::string>();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    ConfigNode key_node(entry.first, section_.child(key).path(), section_.location());
    const std::string hint = closest_match(key, known_);
    throw ConfigError(fmt::format("{}: unknown key ({}known keys: {})", key_node.where(),
                                  hint.empty() ? "" : fmt::format("did you mean '{}'? ", hint), join(known_, ", ")));
  }
}

}  // namespace routemq
