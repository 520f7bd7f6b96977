#pragma once
// The byte stream under a client's connection: TCP, TLS over TCP, or a unix socket, chosen by the
// options (transport_options.hpp). Opened again for each connection attempt; reads and writes go to
// whichever is open. Handlers run on the executor given, as the connection's do. One read and one
// write at a time.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include "core/asio.hpp"
#include "core/net/tls_session.hpp"
#include "core/net/transport_options.hpp"

namespace routemq::net {

class Transport {
 public:
  Transport(asio::any_io_executor executor, TransportOptions options);

  // Where the next async_open connects (a server that moved); the other options stay. Between
  // attempts only.
  void set_address(std::string host, int port);

  // Resolves, connects and (with TLS) completes the TLS handshake, or connects to the unix socket.
  // `done` gets an empty string when open, else why not in words (TLS failures explained).
  using Opened = std::function<void(const std::string& failure)>;
  void async_open(Opened done);
  // What async_open is doing now ("resolving", "connecting", "TLS handshake", "open"), for a timeout's words.
  const char* stage() const { return stage_; }
  bool uses_tls() const { return options_.tls_context != nullptr; }
  // Closes whatever is open and cancels what is pending (their handlers get operation_aborted).
  void close();
  // Says we send no more (TCP FIN) and keeps reading possible. Closing a socket whose received bytes
  // were not read sends a reset instead of a FIN, and the peer may then drop what we wrote last and it
  // had not read yet (a goodbye, the last answers): read until the peer's own end, then close().
  void shutdown_sending();

  // Sends all of `bytes`, which the caller keeps alive until `handler(error, bytes.size())` runs.
  template <class Handler>
  void async_write(std::string_view bytes, Handler&& handler) {
    if (tls_) return write_tls(bytes, std::forward<Handler>(handler));
    if (!options_.socket_path.empty())
      return asio::async_write(unix_, asio::buffer(bytes), std::forward<Handler>(handler));
    asio::async_write(tcp_, asio::buffer(bytes), std::forward<Handler>(handler));
  }
  // Reads what has arrived: `handler(error, bytes)`, the bytes valid until the next read.
  template <class Handler>
  void async_read(Handler&& handler) {
    if (tls_) return read_tls(std::forward<Handler>(handler));
    auto deliver = [this, handler = std::forward<Handler>(handler)](boost::system::error_code error, std::size_t size) {
      handler(error, std::string_view(read_buffer_.data(), error ? 0 : size));
    };
    if (!options_.socket_path.empty()) return unix_.async_read_some(asio::buffer(read_buffer_), std::move(deliver));
    tcp_.async_read_some(asio::buffer(read_buffer_), std::move(deliver));
  }

 private:
  using Written = std::function<void(boost::system::error_code, std::size_t)>;
  using Received = std::function<void(boost::system::error_code, std::string_view)>;

  void open_tcp(Opened done);
  void open_unix(Opened done);
  void start_tls(Opened done);
  void continue_handshake(Opened done);
  std::string failure(const boost::system::error_code& error) const;  // a failed handshake, in words
  void write_tls(std::string_view plaintext, Written done);
  void read_tls(Received done);
  void decrypt_received(Received done);

  TransportOptions options_;
  asio::any_io_executor executor_;
  asio::ip::tcp::socket tcp_;
  asio::ip::tcp::resolver resolver_;
  asio::local::stream_protocol::socket unix_;
  std::vector<char> read_buffer_;  // what the socket gave: plaintext, or TLS records
  // A new TLS session per attempt: its state does not survive a closed socket.
  std::optional<TlsSession> tls_;
  std::string ciphertext_out_;  // being written; untouched until its write completes
  std::string plaintext_in_;    // the last read's, handed to its handler
  boost::system::error_code tls_error_;  // how the TLS stream ended, told after the plaintext before it
  const char* stage_ = "idle";
};

}  // namespace routemq::net
