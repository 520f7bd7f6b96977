#include "core/config/dotenv.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/config/config_error.hpp"
#include "core/config/text.hpp"

namespace routemq {
namespace {

struct LineParser {
  std::string_view file;
  int line;

  [[noreturn]] void fail(std::string_view problem) const {
    throw ConfigError(fmt::format("{}:{}: {}", file, line, problem));
  }

  std::string double_quoted(std::string_view rest) const {
    std::string value;
    for (std::size_t i = 0; i < rest.size(); ++i) {
      const char c = rest[i];
      if (c == '"') {
        if (!trim(strip_comment(rest.substr(i + 1))).empty()) fail("unexpected text after the closing quote");
        return value;
      }
      if (c == '\\' && i + 1 < rest.size()) {
        const char escaped = rest[++i];
        value += escaped == 'n' ? '\n' : escaped == 't' ? '\t' : escaped == 'r' ? '\r' : escaped;
      } else {
        value += c;
      }
    }
    fail("unterminated double quote");
  }

  std::string single_quoted(std::string_view rest) const {
    const auto close = rest.find('\'');
    if (close == std::string_view::npos) fail("unterminated single quote");
    if (!trim(strip_comment(rest.substr(close + 1))).empty()) fail("unexpected text after the closing quote");
    return std::string(rest.substr(0, close));
  }

  static std::string_view strip_comment(std::string_view text) {
    if (!text.empty() && text.front() == '#') return {};
    const auto comment = text.find(" #");
    return comment == std::string_view::npos ? text : text.substr(0, comment);
  }

  std::string value(std::string_view raw) const {
    raw = trim(raw);
    if (!raw.empty() && raw.front() == '"') return double_quoted(raw.substr(1));
    if (!raw.empty() && raw.front() == '\'') return single_quoted(raw.substr(1));
    return std::string(trim(strip_comment(raw)));
  }
};

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_dotenv(std::string_view text, std::string_view file_name) {
  std::vector<std::pair<std::string, std::string>> variables;
  int line_number = 0;
  for (std::string_view line : split_lines(text)) {
    LineParser parser{file_name, ++line_number};
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) parser.fail(fmt::format("expected KEY=VALUE (got '{}')", line));
    const std::string_view key = trim(line.substr(0, equals));
    if (!is_identifier(key)) parser.fail(fmt::format("'{}' is not a valid variable name", key));
    variables.emplace_back(std::string(key), parser.value(line.substr(equals + 1)));
  }
  return variables;
}

int load_dotenv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return 0;
  std::stringstream text;
  text << in.rdbuf();
  int set = 0;
  for (const auto& [key, value] : parse_dotenv(text.str(), path.string())) {
    if (std::getenv(key.c_str())) continue;  // the real environment wins
    ::setenv(key.c_str(), value.c_str(), 0);
    ++set;
  }
  return set;
}

}  // namespace routemq
