#include "core/http/http_message.hpp"

#include <fmt/format.h>

namespace routemq::http {

std::optional<Request> parse_request(std::string_view head) {
  const auto line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return std::nullopt;
  const std::string_view line = head.substr(0, line_end);
  const auto first_space = line.find(' ');
  const auto last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) return std::nullopt;
  const auto method = line.substr(0, first_space);
  const auto target = line.substr(first_space + 1, last_space - first_space - 1);
  const auto version = line.substr(last_space + 1);
  if (method.empty() || target.empty() || target.front() != '/' || !version.starts_with("HTTP/1."))
    return std::nullopt;
  return Request{std::string(method), std::string(target.substr(0, target.find('?')))};
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

std::string format_response(const Response& response, bool head_only) {
  auto text = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                          response.status, reason_phrase(response.status), response.content_type,
                          response.body.size());
  if (!head_only) text += response.body;
  return text;
}

}  // namespace routemq::http
