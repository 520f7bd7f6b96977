#pragma once
// The little HTTP/1.1 the operations endpoints need, without sockets: parse a request head, format a
// response. Requests with a body are not expected (GET and HEAD only); anything else is answered 405.
#include <optional>
#include <string>
#include <string_view>

namespace routemq::http {

struct Request {
  std::string method;  // "GET"
  std::string path;    // "/metrics" (the query string is dropped)
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Heads larger than this are refused: nothing we serve needs more.
constexpr std::size_t max_head_bytes = 8192;

// The request line of a complete head (ending in an empty line); nullopt when it is not HTTP.
std::optional<Request> parse_request(std::string_view head);

// Status line, Content-Type, Content-Length, Connection: close, then the body (none for HEAD).
std::string format_response(const Response& response, bool head_only = false);

const char* reason_phrase(int status);

}  // namespace routemq::http
