#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace routemq::test {

TempDir::TempDir() {
  std::string pattern = "/tmp/routemq-test-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("TempDir: mkdtemp failed");
  path_ = pattern;
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

}  // namespace routemq::test
