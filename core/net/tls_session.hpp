#pragma once
// TLS as bytes in and bytes out: an OpenSSL client session over two memory buffers, no socket. The
// Transport moves the ciphertext; this only encrypts, decrypts and shakes hands.
//
// Why not Asio's ssl::stream: it hands back at most one TLS record (16 KiB) per read and writes each
// record with a socket write of its own, every step a trip through the io_context's queue. Behind a
// thousand waiting coroutines those trips cost more than the crypto (docs/benchmarks.md, the TLS
// section). Here everything one socket read brought is decrypted at once, and a batch of commands
// leaves in one socket write, as in plaintext.
#include <memory>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>
#include <openssl/ssl.h>

namespace routemq::net {

class TlsSession {
 public:
  // `context` is only borrowed while constructing (OpenSSL counts its references). `server_name` is
  // sent as SNI and, when verifying, must be on the server's certificate (tls_context.hpp).
  TlsSession(SSL_CTX* context, const std::string& server_name, bool verify);

  struct Handshake {
    bool finished = false;
    boost::system::error_code error;  // set: the handshake failed (tls_failure() explains it)
  };
  // Runs the handshake as far as the bytes received allow. Then send what take_outgoing() gives, and
  // unless finished or failed, receive() more and call again.
  Handshake handshake();

  // Ciphertext from the socket.
  void receive(std::string_view ciphertext);
  // Appends the plaintext of every complete record received so far. An error ends the session:
  // asio::error::eof for the server's close_notify, else an OpenSSL error (asio's ssl category).
  // Records that only concern TLS (session tickets) give no plaintext and no error.
  boost::system::error_code decrypt(std::string& plaintext);
  // True when received bytes wait to be decrypted.
  bool has_received() const;

  // Encrypts all of `plaintext` for take_outgoing().
  boost::system::error_code encrypt(std::string_view plaintext);
  // Moves the ciphertext waiting to be sent into `out` (replacing its contents).
  void take_outgoing(std::string& out);

  SSL* native_handle() const { return ssl_.get(); }

 private:
  struct Free {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };
  std::unique_ptr<SSL, Free> ssl_;
  BIO* received_;  // owned by ssl_: what came from the socket, read by OpenSSL
  BIO* outgoing_;  // owned by ssl_: what OpenSSL wrote, for the socket
};

}  // namespace routemq::net
