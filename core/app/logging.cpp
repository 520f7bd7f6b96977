#include "core/app/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace routemq {

void configure_logging(const std::string& level) {
  static const auto logger = [] {
    auto created = spdlog::stderr_color_mt("routemq");
    spdlog::set_default_logger(created);
    return created;
  }();
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%t] %v");
  spdlog::set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
}

}  // namespace routemq
