#pragma once
// `.env` files: KEY=VALUE lines, read before anything looks at the environment.
//
//   # comment             blank lines and comments are skipped
//   export MQTT_PORT=1883 `export ` is allowed, so the file can also be sourced by a shell
//   NAME="two words\n"    double quotes: \n \t \" \\ escapes;  single quotes: literal
//   TOKEN=abc # note      unquoted values end at " #"
//
// Variables already set in the process win over the file, as with every dotenv tool.
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace routemq {

// Parses the text; throws ConfigError "<file>:<line>: ..." on a malformed line.
std::vector<std::pair<std::string, std::string>> parse_dotenv(std::string_view text, std::string_view file_name);

// Loads `path` into the process environment if the file exists (a missing file is not an error).
// Returns how many variables it set.
int load_dotenv(const std::filesystem::path& path);

}  // namespace routemq
