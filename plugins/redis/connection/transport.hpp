#pragma once
// The byte stream under a Connection: TCP, TLS over TCP, or a unix socket, chosen by the settings.
// Opened again for each connection attempt; reads and writes go to whichever is open. Handlers run
// on the executor given, as the Connection's do.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "core/asio.hpp"
#include "plugins/redis/connection/connection_settings.hpp"

namespace routemq::redis {

class Transport {
 public:
  // `settings` must outlive the transport (the Connection owns both).
  Transport(asio::any_io_executor executor, const ConnectionSettings& settings);

  // Resolves, connects and (with TLS) completes the TLS handshake, or connects to the unix socket.
  // `done` gets an empty string when open, else why not in words (TLS failures explained).
  using Opened = std::function<void(const std::string& failure)>;
  void async_open(Opened done);
  // What async_open is doing now ("resolving", "connecting", "TLS handshake", "open"), for a timeout's words.
  const char* stage() const { return stage_; }
  bool uses_tls() const { return settings_.tls_context != nullptr; }
  // Closes whatever is open and cancels what is pending (their handlers get operation_aborted).
  void close();

  template <class Buffers, class Handler>
  void async_write(const Buffers& buffers, Handler&& handler) {
    if (tls_) return asio::async_write(*tls_, buffers, std::forward<Handler>(handler));
    if (!settings_.socket_path.empty()) return asio::async_write(unix_, buffers, std::forward<Handler>(handler));
    asio::async_write(tcp_, buffers, std::forward<Handler>(handler));
  }
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Handler>(handler));
    if (!settings_.socket_path.empty()) return unix_.async_read_some(buffers, std::forward<Handler>(handler));
    tcp_.async_read_some(buffers, std::forward<Handler>(handler));
  }

 private:
  void open_tcp(Opened done);
  void open_unix(Opened done);
  void start_tls(Opened done);

  const ConnectionSettings& settings_;
  asio::ip::tcp::socket tcp_;
  asio::ip::tcp::resolver resolver_;
  asio::local::stream_protocol::socket unix_;
  // A new TLS session over tcp_ per attempt: OpenSSL's state does not survive a closed socket.
  std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  const char* stage_ = "idle";
};

}  // namespace routemq::redis
