#include "core/net/tls_session.hpp"

#include <stdexcept>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>

#include "core/net/tls_context.hpp"

namespace routemq::net {
namespace {

namespace ssl = boost::asio::ssl;

constexpr std::size_t record_size = 16 * 1024;  // the most plaintext one TLS record carries

// What an OpenSSL call's result means, in Asio's terms so that tls_failure() and the Transport's user
// read it as they would a socket's; empty when OpenSSL only needs more bytes.
boost::system::error_code error_after(SSL* session, int result) {
  switch (SSL_get_error(session, result)) {
    case SSL_ERROR_WANT_READ:
      return {};
    case SSL_ERROR_ZERO_RETURN:
      return boost::asio::error::eof;
    case SSL_ERROR_SSL:
      if (const unsigned long code = ERR_get_error())
        return {static_cast<int>(code), boost::asio::error::get_ssl_category()};
      return ssl::error::stream_truncated;
    default:  // SSL_ERROR_SYSCALL and the rest cannot come from memory buffers: treat as a broken stream
      return ssl::error::stream_truncated;
  }
}

}  // namespace

TlsSession::TlsSession(SSL_CTX* context, const std::string& server_name, bool verify) : ssl_(SSL_new(context)) {
  received_ = BIO_new(BIO_s_mem());
  outgoing_ = BIO_new(BIO_s_mem());
  if (!ssl_ || !received_ || !outgoing_) {
    BIO_free(received_);
    BIO_free(outgoing_);
    throw std::runtime_error("TLS: OpenSSL could not allocate a session");
  }
  SSL_set_bio(ssl_.get(), received_, outgoing_);  // ssl_ owns both from here
  SSL_set_connect_state(ssl_.get());
  expect_server_name(ssl_.get(), server_name, verify);
}

TlsSession::Handshake TlsSession::handshake() {
  ERR_clear_error();  // the queue is per thread: an old entry would be read as this call's reason
  const int result = SSL_do_handshake(ssl_.get());
  if (result == 1) return {true, {}};
  return {false, error_after(ssl_.get(), result)};
}

void TlsSession::receive(std::string_view ciphertext) {
  // A memory BIO grows as needed; a write to it only fails when memory does.
  if (!ciphertext.empty() && BIO_write(received_, ciphertext.data(), static_cast<int>(ciphertext.size())) <= 0)
    throw std::bad_alloc();
}

bool TlsSession::has_received() const { return BIO_ctrl_pending(received_) > 0 || SSL_pending(ssl_.get()) > 0; }

boost::system::error_code TlsSession::decrypt(std::string& plaintext) {
  ERR_clear_error();
  for (;;) {
    const std::size_t before = plaintext.size();
    plaintext.resize(before + record_size);
    std::size_t size = 0;
    const int result = SSL_read_ex(ssl_.get(), plaintext.data() + before, record_size, &size);
    plaintext.resize(before + size);
    if (result != 1) return error_after(ssl_.get(), result);
  }
}

boost::system::error_code TlsSession::encrypt(std::string_view plaintext) {
  if (plaintext.empty()) return {};
  ERR_clear_error();
  // Without SSL_MODE_ENABLE_PARTIAL_WRITE, one call writes every record into the growing buffer.
  std::size_t written = 0;
  const int result = SSL_write_ex(ssl_.get(), plaintext.data(), plaintext.size(), &written);
  if (result == 1) return {};
  const auto error = error_after(ssl_.get(), result);
  return error ? error : ssl::error::stream_truncated;  // wanting to read first: a renegotiation we do not do
}

void TlsSession::take_outgoing(std::string& out) {
  out.resize(BIO_ctrl_pending(outgoing_));
  if (!out.empty()) BIO_read(outgoing_, out.data(), static_cast<int>(out.size()));
}

}  // namespace routemq::net
