#pragma once
// The process-wide log: stderr, one line per event, level from `app.log_level` / LOG_LEVEL.
//   text: 2026-11-23T06:01:02.087 info  [16032] mqtt: connected to ...
//   json: {"ts":"2026-11-23T06:01:02.087Z","level":"info","thread":16032,"msg":"mqtt: connected to ..."}
// (json for log shippers: one object per line, the message escaped). Secrets are never logged: config
// values marked secret are redacted where they are printed.
#include <string>

namespace routemq {

void configure_logging(const std::string& level, const std::string& format = "text");

// One log line as JSON (exposed for tests).
std::string json_log_line(const std::string& timestamp, const std::string& level, std::size_t thread,
                          const std::string& message);

}  // namespace routemq
