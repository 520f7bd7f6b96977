#pragma once
// A blocking HTTP/1.1 request to 127.0.0.1, for tests of the operations endpoint.
//
//   auto reply = http_get(port, "/ready");   // reply.status == 200, reply.body == "{...}"
#include <chrono>
#include <cstdint>
#include <string>

namespace routemq::test {

struct HttpReply {
  int status = 0;  // 0: no answer (connection refused, closed early or timed out)
  std::string body;
};

HttpReply http_get(std::uint16_t port, const std::string& path, const std::string& method = "GET",
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
// Sends `raw` bytes as they are and returns whatever came back (for malformed-request tests).
std::string http_raw(std::uint16_t port, const std::string& raw, std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace routemq::test
