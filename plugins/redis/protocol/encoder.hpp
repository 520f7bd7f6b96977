#pragma once
// Commands to RESP bytes: arrays of bulk strings, binary-safe (any argument may hold NULs).
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace routemq::redis {

// Appends one command, e.g. {"SET", "k", "v"}, to `out`. Throws std::invalid_argument when empty.
void append_command(std::string& out, const std::vector<std::string>& args);
std::string encode_command(const std::vector<std::string>& args);
// The same from views: the hot commands (GET, SET) need no vector of argument copies.
std::string encode_views(std::span<const std::string_view> args);
void append_views(std::string& out, std::span<const std::string_view> args);

}  // namespace routemq::redis
