#pragma once
// Binary test data: every byte value once, NUL and invalid UTF-8 included.
#include <string>

namespace routemq::test {

inline std::string all_byte_values() {
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  return bytes;
}

}  // namespace routemq::test
