#include "core/app/logging.hpp"

#include <chrono>

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace routemq {
namespace {

// spdlog's pattern cannot escape the message, so JSON lines get their own formatter.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto millis = std::chrono::time_point_cast<std::chrono::milliseconds>(msg.time);
    const auto timestamp = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", millis);
    const auto level = spdlog::level::to_string_view(msg.level);
    const auto line = json_log_line(timestamp, std::string(level.data(), level.size()), msg.thread_id,
                                    std::string(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

std::string json_log_line(const std::string& timestamp, const std::string& level, std::size_t thread,
                          const std::string& message) {
  nlohmann::json line{{"ts", timestamp}, {"level", level}, {"thread", thread}, {"msg", message}};
  // Invalid UTF-8 from a hostile payload is replaced, never a thrown exception in the logger.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void configure_logging(const std::string& level, const std::string& format) {
  static const auto logger = [] {
    auto created = spdlog::stderr_color_mt("routemq");
    spdlog::set_default_logger(created);
    return created;
  }();
  if (format == "json")
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%t] %v");
  spdlog::set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
}

}  // namespace routemq
