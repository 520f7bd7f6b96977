#pragma once
// A small HTTP server for the operations endpoints (/metrics, /health, /ready) on the app's executor:
// one request per connection, GET or HEAD, a deadline per connection, heads capped at 8 KiB.
//
//   http::Server server(io, "127.0.0.1", 9100, [](const http::Request& r) { return http::Response{...}; });
//   server.port();   // the bound port (useful with port 0)
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/asio.hpp"
#include "core/http/http_message.hpp"

namespace routemq::http {

using RequestHandler = std::function<Response(const Request&)>;

class Server {
 public:
  // Binds at once (throws std::runtime_error naming the address when it cannot), then serves.
  Server(asio::io_context& io, const std::string& host, std::uint16_t port, RequestHandler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return port_; }
  // Closes the listener (call it while the executor still runs); connections in flight finish or hit
  // their deadline. Idempotent; the destructor calls it.
  void stop();

  struct State;  // the listener and the handler, shared with the coroutines serving them

 private:
  std::shared_ptr<State> state_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace routemq::http
