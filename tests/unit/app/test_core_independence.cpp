// Dependencies point one way (routes -> middleware -> plugins/redis -> core): core names no plugin,
// not even in a comment, so that nothing in it can quietly come to rely on one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "tests/support/paths.hpp"

namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// "file:line: text" for every line of core/ that names `word` (any case).
std::vector<std::string> lines_in_core_naming(const std::string& word) {
  std::vector<std::string> found;
  const std::filesystem::path core = routemq::test::source_path("core");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(core)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream file(entry.path());
    int number = 0;
    for (std::string line; std::getline(file, line);) {
      ++number;
      if (lowercase(line).find(word) != std::string::npos)
        found.push_back(std::filesystem::relative(entry.path(), core).string() + ":" + std::to_string(number) + ": " + line);
    }
  }
  return found;
}

}  // namespace

TEST_CASE("core names no plugin: no Redis in core/") {
  const auto found = lines_in_core_naming("redis");
  for (const auto& line : found) UNSCOPED_INFO(line);
  CHECK(found.empty());
}
