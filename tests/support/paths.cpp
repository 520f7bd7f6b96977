#include "tests/support/paths.hpp"

namespace routemq::test {

std::string source_path(const std::string& relative) { return std::string(ROUTEMQ_SOURCE_DIR) + "/" + relative; }

std::string example_config() { return source_path("config/app.yaml"); }

std::string routemq_binary() { return ROUTEMQ_BIN; }

std::string build_dir() { return ROUTEMQ_BUILD_DIR; }

}  // namespace routemq::test
