#include "core/http/http_server.hpp"

#include <future>
#include <stdexcept>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace routemq::http {
namespace {

using asio::ip::tcp;
constexpr auto connection_deadline = std::chrono::seconds(5);

Response answer(const RequestHandler& handler, const std::optional<Request>& request) {
  if (!request) return {400, "text/plain; charset=utf-8", "bad request\n"};
  if (request->method != "GET" && request->method != "HEAD") return {405, "text/plain; charset=utf-8", "GET only\n"};
  try {
    return handler(*request);
  } catch (const std::exception& e) {
    spdlog::error("http: {} {} failed: {}", request->method, request->path, e.what());
    return {500, "text/plain; charset=utf-8", "internal error\n"};
  }
}

}  // namespace

struct Server::State {
  // The listener lives on a strand: stop() closes it there, never while an accept is resuming.
  explicit State(asio::io_context& io, RequestHandler h) : acceptor(asio::make_strand(io)), handler(std::move(h)) {}
  tcp::acceptor acceptor;
  RequestHandler handler;
};

namespace {

// Runs on its own strand, so the deadline's close never races the read or the write.
awaitable<void> serve_connection(std::shared_ptr<Server::State> state, std::shared_ptr<tcp::socket> socket) {
  asio::steady_timer deadline(co_await asio::this_coro::executor, connection_deadline);
  deadline.async_wait([socket](const boost::system::error_code& error) {
    boost::system::error_code ignored;
    if (!error) socket->close(ignored);  // a slow or silent client does not hold the connection
  });
  std::string buffer;
  boost::system::error_code error;
  co_await asio::async_read_until(*socket, asio::dynamic_buffer(buffer, max_head_bytes), "\r\n\r\n",
                                  asio::redirect_error(asio::use_awaitable, error));
  Response response;
  bool head_only = false;
  if (error == asio::error::not_found) {
    response = {431, "text/plain; charset=utf-8", "request head too large\n"};
  } else if (error) {
    deadline.cancel();
    co_return;  // closed, reset or timed out: nobody to answer
  } else {
    const auto request = parse_request(buffer);
    head_only = request && request->method == "HEAD";
    response = answer(state->handler, request);
  }
  const auto text = format_response(response, head_only);
  co_await asio::async_write(*socket, asio::buffer(text), asio::redirect_error(asio::use_awaitable, error));
  socket->shutdown(tcp::socket::shutdown_both, error);
  deadline.cancel();
}

awaitable<void> accept_loop(std::shared_ptr<Server::State> state, asio::io_context& io) {
  for (;;) {
    boost::system::error_code error;
    auto socket = std::make_shared<tcp::socket>(io);
    co_await state->acceptor.async_accept(*socket, asio::redirect_error(asio::use_awaitable, error));
    if (error == asio::error::operation_aborted || !state->acceptor.is_open()) co_return;
    if (error) continue;  // e.g. out of descriptors for a moment: keep serving
    asio::co_spawn(asio::make_strand(io), serve_connection(state, std::move(socket)), asio::detached);
  }
}

}  // namespace

Server::Server(asio::io_context& io, const std::string& host, std::uint16_t port, RequestHandler handler)
    : state_(std::make_shared<State>(io, std::move(handler))) {
  try {
    const tcp::endpoint endpoint(asio::ip::make_address(host), port);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("http: cannot listen on {}:{}: {}", host, port, e.what()));
  }
  port_ = state_->acceptor.local_endpoint().port();
  asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_, io), asio::detached);
}

Server::~Server() { stop(); }

void Server::stop() {
  if (stopped_.exchange(true)) return;
  // The listener belongs to its strand: close it there, and wait (bounded, in case the executor is no
  // longer running) so no accept is resumed after stop() returns.
  auto closed = std::make_shared<std::promise<void>>();
  auto done = closed->get_future();
  asio::post(state_->acceptor.get_executor(), [state = state_, closed] {
    boost::system::error_code ignored;
    state->acceptor.close(ignored);
    closed->set_value();
  });
  done.wait_for(std::chrono::seconds(2));
}

}  // namespace routemq::http
