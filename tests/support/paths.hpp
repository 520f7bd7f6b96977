#pragma once
// Where the tests find the repository and the service binary. Only paths.cpp is compiled with the
// clone's absolute paths, so every other test object is the same in any clone (ccache shares them).
#include <string>

namespace routemq::test {

// The repository's root, e.g. source_path("config/app.yaml").
std::string source_path(const std::string& relative);

// config/app.yaml, the example service's configuration.
std::string example_config();

// The example service's binary (build/bin/routemq of this build tree).
std::string routemq_binary();

// This build tree (build/, build-asan/ ...), e.g. for `cmake --install`.
std::string build_dir();

}  // namespace routemq::test
