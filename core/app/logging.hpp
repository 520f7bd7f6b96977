#pragma once
#include <string>

namespace routemq {

// Sets the process-wide log level ("trace", "debug", "info", "warn", "error", "off") and format.
// Logs go to stderr, one line per event, with the level and thread.
void configure_logging(const std::string& level);

}  // namespace routemq
