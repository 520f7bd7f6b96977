#include "plugins/redis/connection/transport.hpp"

#include <boost/asio/connect.hpp>

#include "plugins/redis/connection/tls_context.hpp"

namespace routemq::redis {

Transport::Transport(asio::any_io_executor executor, const ConnectionSettings& settings)
    : settings_(settings), tcp_(executor), resolver_(executor), unix_(executor) {}

void Transport::async_open(Opened done) {
  close();
  if (!settings_.socket_path.empty()) return open_unix(std::move(done));
  open_tcp(std::move(done));
}

void Transport::open_unix(Opened done) {
  stage_ = "connecting";
  unix_.async_connect(asio::local::stream_protocol::endpoint(settings_.socket_path),
                      [this, done = std::move(done)](boost::system::error_code error) {
                        if (error) return done(settings_.socket_path + ": " + error.message());
                        stage_ = "open";
                        done({});
                      });
}

void Transport::open_tcp(Opened done) {
  stage_ = "resolving";
  resolver_.async_resolve(
      settings_.host, std::to_string(settings_.port),
      [this, done = std::move(done)](boost::system::error_code error, asio::ip::tcp::resolver::results_type hosts) mutable {
        if (error) return done("cannot resolve " + settings_.host + ": " + error.message());
        stage_ = "connecting";
        asio::async_connect(tcp_, hosts, [this, done = std::move(done)](boost::system::error_code connect_error,
                                                                        const asio::ip::tcp::endpoint&) mutable {
          if (connect_error) return done(connect_error.message());
          boost::system::error_code ignored;
          tcp_.set_option(asio::ip::tcp::no_delay(true), ignored);
          if (settings_.tls_context) return start_tls(std::move(done));
          stage_ = "open";
          done({});
        });
      });
}

void Transport::start_tls(Opened done) {
  stage_ = "TLS handshake";
  tls_.emplace(tcp_, *settings_.tls_context);
  const auto& server_name = settings_.tls.server_name.empty() ? settings_.host : settings_.tls.server_name;
  expect_server_name(tls_->native_handle(), server_name, settings_.tls.verify);
  tls_->async_handshake(asio::ssl::stream_base::client, [this, done = std::move(done)](boost::system::error_code error) {
    if (error) return done(tls_failure(error, tls_->native_handle()));
    stage_ = "open";
    done({});
  });
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

}  // namespace routemq::redis
