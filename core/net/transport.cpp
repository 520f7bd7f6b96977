#include "core/net/transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "core/net/tls_context.hpp"

namespace routemq::net {
namespace {

constexpr std::size_t read_chunk = 64 * 1024;

// SO_KEEPALIVE and the numbers given; why not, in words, when the system refuses one.
std::string set_keepalive(asio::ip::tcp::socket& socket, const TcpKeepalive& keepalive) {
  if (!keepalive.enabled) return {};
  boost::system::error_code error;
  socket.set_option(asio::socket_base::keep_alive(true), error);
  if (error) return "TCP keepalive (SO_KEEPALIVE): " + error.message();
  const struct {
    int value;
    int option;
    const char* name;
  } numbers[] = {{keepalive.idle_s, TCP_KEEPIDLE, "TCP_KEEPIDLE"},
                 {keepalive.interval_s, TCP_KEEPINTVL, "TCP_KEEPINTVL"},
                 {keepalive.count, TCP_KEEPCNT, "TCP_KEEPCNT"}};
  for (const auto& number : numbers) {
    if (number.value <= 0) continue;
    if (::setsockopt(socket.native_handle(), IPPROTO_TCP, number.option, &number.value, sizeof number.value) != 0)
      return fmt::format("TCP keepalive ({} {}): {}", number.name, number.value, std::strerror(errno));
  }
  return {};
}

}  // namespace

Transport::Transport(asio::any_io_executor executor, TransportOptions options)
    : options_(std::move(options)),
      executor_(executor),
      tcp_(executor),
      resolver_(executor),
      unix_(executor),
      read_buffer_(read_chunk) {}

void Transport::set_address(std::string host, int port) {
  options_.host = std::move(host);
  options_.port = port;
}

void Transport::async_open(Opened done) {
  close();
  if (!options_.socket_path.empty()) return open_unix(std::move(done));
  open_tcp(std::move(done));
}

void Transport::open_unix(Opened done) {
  stage_ = "connecting";
  unix_.async_connect(asio::local::stream_protocol::endpoint(options_.socket_path),
                      [this, done = std::move(done)](boost::system::error_code error) {
                        if (error) return done(options_.socket_path + ": " + error.message());
                        stage_ = "open";
                        done({});
                      });
}

void Transport::open_tcp(Opened done) {
  stage_ = "resolving";
  resolver_.async_resolve(
      options_.host, std::to_string(options_.port),
      [this, done = std::move(done)](boost::system::error_code error, asio::ip::tcp::resolver::results_type hosts) mutable {
        if (error) return done("cannot resolve " + options_.host + ": " + error.message());
        stage_ = "connecting";
        asio::async_connect(tcp_, hosts, [this, done = std::move(done)](boost::system::error_code connect_error,
                                                                        const asio::ip::tcp::endpoint&) mutable {
          if (connect_error) return done(connect_error.message());
          boost::system::error_code ignored;
          tcp_.set_option(asio::ip::tcp::no_delay(true), ignored);
          if (auto refused = set_keepalive(tcp_, options_.keepalive); !refused.empty()) return done(refused);
          if (options_.tls_context) return start_tls(std::move(done));
          stage_ = "open";
          done({});
        });
      });
}

void Transport::start_tls(Opened done) {
  stage_ = "TLS handshake";
  const auto& server_name = options_.server_name.empty() ? options_.host : options_.server_name;
  tls_.emplace(options_.tls_context->native_handle(), server_name, options_.verify);
  tls_error_ = {};
  continue_handshake(std::move(done));
}

// One round of the handshake: what OpenSSL wrote goes out, then (unless it finished) what the server
// answers comes in, and again.
void Transport::continue_handshake(Opened done) {
  const auto step = tls_->handshake();
  tls_->take_outgoing(ciphertext_out_);
  if (step.error) return done(failure(step.error));
  auto next = [this, finished = step.finished, done = std::move(done)](boost::system::error_code error,
                                                                        std::size_t) mutable {
    if (error) return done(failure(error));
    if (finished) {
      stage_ = "open";
      return done({});
    }
    tcp_.async_read_some(asio::buffer(read_buffer_), [this, done = std::move(done)](boost::system::error_code read_error,
                                                                                    std::size_t size) mutable {
      if (read_error) return done(failure(read_error));
      tls_->receive({read_buffer_.data(), size});
      continue_handshake(std::move(done));
    });
  };
  if (ciphertext_out_.empty()) return next({}, 0);
  asio::async_write(tcp_, asio::buffer(ciphertext_out_), std::move(next));
}

std::string Transport::failure(const boost::system::error_code& error) const {
  return tls_failure(error, tls_->native_handle(), options_.tls_setting, options_.not_tls_hint);
}

void Transport::write_tls(std::string_view plaintext, Written done) {
  if (const auto error = tls_->encrypt(plaintext))
    return asio::post(executor_, [error, done = std::move(done)] { done(error, 0); });
  tls_->take_outgoing(ciphertext_out_);
  asio::async_write(tcp_, asio::buffer(ciphertext_out_),
                    [size = plaintext.size(), done = std::move(done)](boost::system::error_code error, std::size_t) {
                      done(error, error ? 0 : size);
                    });
}

void Transport::read_tls(Received done) {
  if (tls_error_)  // the stream ended after the plaintext the last read handed over
    return asio::post(executor_, [error = tls_error_, done = std::move(done)] { done(error, {}); });
  tcp_.async_read_some(asio::buffer(read_buffer_),
                       [this, done = std::move(done)](boost::system::error_code error, std::size_t size) mutable {
                         if (error) return done(error, {});
                         tls_->receive({read_buffer_.data(), size});
                         decrypt_received(std::move(done));
                       });
}

void Transport::decrypt_received(Received done) {
  plaintext_in_.clear();
  tls_error_ = tls_->decrypt(plaintext_in_);
  if (!plaintext_in_.empty()) return done({}, plaintext_in_);
  if (tls_error_) return done(tls_error_, {});
  read_tls(std::move(done));  // part of a record, or a record for TLS itself (a session ticket)
}

void Transport::shutdown_sending() {
  boost::system::error_code ignored;
  if (!options_.socket_path.empty()) unix_.shutdown(asio::socket_base::shutdown_send, ignored);
  else tcp_.shutdown(asio::socket_base::shutdown_send, ignored);
}

void Transport::close() {
  boost::system::error_code ignored;
  resolver_.cancel();
  tcp_.close(ignored);
  unix_.close(ignored);
  stage_ = "idle";
  // The TLS session stays until the next attempt replaces it: handlers cancelled by the close above
  // may still be queued, and they refer to it.
}

}  // namespace routemq::net
