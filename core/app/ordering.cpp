#include "core/app/ordering.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace routemq {

OrderKey OrderKey::parse(std::string_view text, const std::vector<std::string>& params) {
  OrderKey key;
  key.text_ = std::string(text);
  for (std::size_t at = 0; at < text.size();) {
    const auto open = text.find('{', at);
    const auto close = text.find('}', at);
    if (close < open) throw std::invalid_argument(fmt::format("order key '{}': '}}' without '{{'", text));
    if (open == std::string_view::npos) {
      key.parts_.push_back({Part::Kind::literal, std::string(text.substr(at))});
      break;
    }
    if (open > at) key.parts_.push_back({Part::Kind::literal, std::string(text.substr(at, open - at))});
    if (close == std::string_view::npos) throw std::invalid_argument(fmt::format("order key '{}': '{{' without '}}'", text));
    const auto name = text.substr(open + 1, close - open - 1);
    if (name.empty()) throw std::invalid_argument(fmt::format("order key '{}': an empty '{{}}'", text));
    if (name == "topic") {
      key.parts_.push_back({Part::Kind::topic, {}});
    } else if (std::find(params.begin(), params.end(), name) != params.end()) {
      key.parts_.push_back({Part::Kind::param, std::string(name)});
    } else {
      std::string known = "topic";
      for (const auto& param : params) known += ", " + param;
      throw std::invalid_argument(
          fmt::format("order key '{}': '{}' is not a parameter of the route (expected one of: {})", text, name, known));
    }
    at = close + 1;
  }
  if (key.parts_.empty()) throw std::invalid_argument("order key: empty");
  return key;
}

std::string OrderKey::render(std::string_view topic, const Params& params) const {
  std::string key;
  for (const auto& part : parts_) {
    switch (part.kind) {
      case Part::Kind::literal: key += part.text; break;
      case Part::Kind::topic: key += topic; break;
      case Part::Kind::param: key += params.get(part.text).value_or(""); break;
    }
  }
  return key;
}

}  // namespace routemq
