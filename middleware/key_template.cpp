#include "middleware/key_template.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "core/config/config_error.hpp"
#include "plugins/redis/hex.hpp"
#include "plugins/redis/sha1_hex.hpp"

namespace routemq::middleware {
namespace {

std::string content_hash(std::string_view topic, std::string_view payload) {
  std::string input(topic);
  input += '\0';  // so ("ab", "c") and ("a", "bc") differ
  input += payload;
  return redis::sha1_hex(input);
}

// A JSON scalar as key text; nullopt for objects, arrays and null.
std::optional<std::string> scalar_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number() || value.is_boolean()) return value.dump();
  return std::nullopt;
}

}  // namespace

KeyTemplate KeyTemplate::parse(std::string_view text) {
  auto fail = [&](std::string_view why) {
    throw std::invalid_argument(fmt::format("key template '{}': {}", text, why));
  };
  KeyTemplate result;
  result.text_ = std::string(text);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find('{', pos);
    const auto close_before = text.find('}', pos);
    if (close_before < open) fail("a '}' without its '{'");
    if (open == std::string_view::npos) {
      result.parts_.push_back({Part::Kind::literal, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) result.parts_.push_back({Part::Kind::literal, std::string(text.substr(pos, open - pos))});
    const auto close = text.find('}', open);
    if (close == std::string_view::npos) fail("a '{' without its '}'");
    const std::string name(text.substr(open + 1, close - open - 1));
    if (name.empty() || name.find('{') != std::string::npos) fail("an empty or nested '{}'");
    if (name == "topic") result.parts_.push_back({Part::Kind::topic, ""});
    else if (name == "hash") result.parts_.push_back({Part::Kind::hash, ""});
    else if (name == "response_topic") result.parts_.push_back({Part::Kind::response_topic, ""});
    else if (name == "correlation_data") result.parts_.push_back({Part::Kind::correlation_data, ""});
    else if (name.starts_with("payload.") && name.size() > 8) result.parts_.push_back({Part::Kind::payload, name.substr(8)});
    else if (name.starts_with("user.") && name.size() > 5) result.parts_.push_back({Part::Kind::user_property, name.substr(5)});
    else result.parts_.push_back({Part::Kind::param, name});
    pos = close + 1;
  }
  if (result.parts_.empty()) fail("is empty");
  return result;
}

KeyTemplate KeyTemplate::from_option(const ConfigNode& options, std::string_view key, std::string_view text) {
  try {
    return parse(text);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(fmt::format("{}: {}", options.child(key).where(), e.what()));
  }
}

KeyTemplate::Rendered KeyTemplate::render(Context& ctx) const {
  Rendered out;
  for (const auto& part : parts_) {
    switch (part.kind) {
      case Part::Kind::literal: out.key += part.name; break;
      case Part::Kind::topic: out.key += ctx.topic(); break;
      case Part::Kind::hash: out.key += content_hash(ctx.topic(), ctx.payload()); break;
      case Part::Kind::response_topic:
        if (!ctx.response_topic()) return {{}, "the message has no response topic"};
        out.key += *ctx.response_topic();
        break;
      case Part::Kind::correlation_data:
        if (!ctx.correlation_data()) return {{}, "the message has no correlation data"};
        out.key += redis::lower_hex(*ctx.correlation_data());
        break;
      case Part::Kind::param: {
        auto value = ctx.params().get(part.name);
        if (!value) return {{}, fmt::format("the route has no parameter '{}'", part.name)};
        out.key += *value;
        break;
      }
      case Part::Kind::user_property: {
        auto value = ctx.user_property(part.name);
        if (!value) return {{}, fmt::format("the message has no user property '{}'", part.name)};
        out.key += *value;
        break;
      }
      case Part::Kind::payload: {
        const auto* node = ctx.try_json();
        if (!node) return {{}, "the payload is not JSON: " + ctx.json_error()};
        std::string_view path = part.name;
        while (!path.empty()) {
          const auto dot = path.find('.');
          const std::string field(path.substr(0, dot));
          if (!node->is_object() || !node->contains(field))
            return {{}, fmt::format("the payload has no field '{}'", part.name)};
          node = &(*node)[field];
          path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
        }
        auto text = scalar_text(*node);
        if (!text) return {{}, fmt::format("the payload field '{}' is not a string, number or boolean", part.name)};
        out.key += *text;
        break;
      }
    }
  }
  return out;
}

}  // namespace routemq::middleware
