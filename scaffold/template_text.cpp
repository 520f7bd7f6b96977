#include "scaffold/template_text.hpp"

#include <optional>

#include <fmt/format.h>

namespace routemq::scaffold {
namespace {

void replace_all(std::string& text, std::string_view placeholder, std::string_view value) {
  for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size()))
    text.replace(at, placeholder.size(), value);
}

// The condition of an `@@if` line: whether its lines are kept.
bool condition_holds(std::string_view condition, const std::set<std::string>& options, int line) {
  const bool negated = condition.starts_with('!');
  if (negated) condition.remove_prefix(1);
  if (condition.empty()) throw TemplateError(fmt::format("line {}: @@if names no option", line));
  return options.contains(std::string(condition)) != negated;
}

}  // namespace

std::string render_template(std::string_view text, const ServiceName& name, const std::set<std::string>& options) {
  std::string kept;
  std::optional<bool> inside;  // in an @@if block: whether its lines are kept
  int line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const auto end = text.find('\n', start);
    const auto line = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    const auto next = end == std::string_view::npos ? text.size() : end + 1;
    ++line_number;
    if (line.starts_with("@@if ")) {
      if (inside) throw TemplateError(fmt::format("line {}: @@if inside another @@if", line_number));
      inside = condition_holds(line.substr(5), options, line_number);
    } else if (line == "@@end") {
      if (!inside) throw TemplateError(fmt::format("line {}: @@end without @@if", line_number));
      inside.reset();
    } else if (line.starts_with("@@")) {
      throw TemplateError(fmt::format("line {}: unknown directive '{}'", line_number, line));
    } else if (inside.value_or(true)) {
      kept.append(text.substr(start, next - start));
    }
    start = next;
  }
  if (inside) throw TemplateError("an @@if block is not closed by @@end");
  replace_all(kept, "__IDENT_UPPER__", name.upper);
  replace_all(kept, "__IDENT__", name.identifier);
  replace_all(kept, "__NAME__", name.name);
  return kept;
}

}  // namespace routemq::scaffold
