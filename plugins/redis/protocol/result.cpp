#include "plugins/redis/protocol/result.hpp"

namespace routemq::redis {

const char* to_string(Failure failure) {
  switch (failure) {
    case Failure::none: return "ok";
    case Failure::unavailable: return "unavailable";
    case Failure::timeout: return "timeout";
    case Failure::connection_lost: return "connection lost";
    case Failure::protocol: return "protocol error";
    case Failure::refused: return "refused";
  }
  return "?";
}

std::string Result::error_text() const {
  if (!ok()) return detail.empty() ? to_string(failure) : std::string(to_string(failure)) + ": " + detail;
  if (reply.is_error()) return reply.text;
  return {};
}

}  // namespace routemq::redis
