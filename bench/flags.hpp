#pragma once
// Command-line values of the benchmarks, checked: a typo stops the run instead of measuring nonsense.
#include <charconv>
#include <stdexcept>
#include <string>

namespace routemq::bench {

// `text` as a positive integer; throws naming `flag` otherwise.
inline long long parse_number(const std::string& flag, const std::string& text) {
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0)
    throw std::invalid_argument(flag + " expects a positive integer, got '" + text + "'");
  return value;
}

}  // namespace routemq::bench
