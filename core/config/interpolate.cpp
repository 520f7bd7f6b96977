#include "core/config/interpolate.hpp"

#include <fmt/format.h>

#include "core/config/config_error.hpp"
#include "core/config/text.hpp"

namespace routemq {
namespace {

// Resolves the inside of one `${...}`.
std::string resolve(std::string_view reference, const Environment& environment, std::string_view where) {
  const auto dash = reference.find(":-");
  const std::string_view name = dash == std::string_view::npos ? reference : reference.substr(0, dash);
  if (!is_identifier(name))
    throw ConfigError(fmt::format("{}: '${{{}}}' is not a valid variable reference (expected ${{NAME}} or "
                                  "${{NAME:-default}})",
                                  where, reference));
  if (auto value = environment.get(name)) return *value;
  if (dash != std::string_view::npos) return std::string(reference.substr(dash + 2));
  throw ConfigError(fmt::format("{}: environment variable {} is not set (use ${{{}:-default}} for a default)", where,
                                name, name));
}

}  // namespace

std::string interpolate(std::string_view text, const Environment& environment, std::string_view where) {
  std::string result;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i).starts_with("$${")) {
      result += "${";
      i += 3;
    } else if (text.substr(i).starts_with("${")) {
      const auto close = text.find('}', i + 2);
      if (close == std::string_view::npos)
        throw ConfigError(fmt::format("{}: unterminated '${{' in '{}'", where, text));
      result += resolve(text.substr(i + 2, close - i - 2), environment, where);
      i = close + 1;
    } else {
      result += text[i++];
    }
  }
  return result;
}

}  // namespace routemq
