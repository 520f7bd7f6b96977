#pragma once
// Small string helpers shared by the config readers (and by readers of other text, such as a plugin's).
#include <string>
#include <string_view>
#include <vector>

namespace routemq {

std::string_view trim(std::string_view text);
// The pieces between `separator`s; a trailing separator adds no empty piece.
std::vector<std::string_view> split(std::string_view text, char separator);
std::vector<std::string_view> split_lines(std::string_view text);
// [A-Za-z_][A-Za-z0-9_]*
bool is_identifier(std::string_view text);
// Edit distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, if it is close enough to be a likely typo.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& items, std::string_view separator);

}  // namespace routemq
