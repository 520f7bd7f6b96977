// JSON log lines: one object per line, the message escaped, hostile bytes replaced.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/app/logging.hpp"

using namespace routemq;

TEST_CASE("a JSON log line is one parseable object with the message escaped") {
  const auto line = json_log_line("2026-11-23T06:01:02.087Z", "warning", 42, "bad payload on 'a/\"b\"':\n\x01");
  REQUIRE(line.ends_with("}\n"));
  CHECK(line.find('\n') == line.size() - 1);
  const auto parsed = nlohmann::json::parse(line);
  CHECK(parsed["level"] == "warning");
  CHECK(parsed["thread"] == 42);
  CHECK(parsed["msg"] == "bad payload on 'a/\"b\"':\n\x01");
}

TEST_CASE("invalid UTF-8 in a message is replaced, not thrown") {
  const auto line = json_log_line("t", "info", 1, std::string("payload \xff\xfe end"));
  CHECK_NOTHROW(nlohmann::json::parse(line));
  CHECK(nlohmann::json::parse(line)["msg"].get<std::string>().find("end") != std::string::npos);
}
