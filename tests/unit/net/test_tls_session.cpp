// TlsSession without sockets: a client session and an OpenSSL server exchange bytes through strings,
// whole, one byte at a time, corrupted or cut, with certificates made by openssl at test time.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/net/tls_context.hpp"
#include "core/net/tls_session.hpp"
#include "tests/support/test_certificates.hpp"

using routemq::net::TlsOptions;
using routemq::net::TlsSession;

namespace {

// An OpenSSL server over memory buffers, the peer the client session talks to.
class MemoryServer {
 public:
  explicit MemoryServer(const routemq::test::CertificatePair& certificate) : context_(SSL_CTX_new(TLS_server_method())) {
    REQUIRE(SSL_CTX_use_certificate_chain_file(context_.get(), certificate.cert.c_str()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey_file(context_.get(), certificate.key.c_str(), SSL_FILETYPE_PEM) == 1);
    ssl_.reset(SSL_new(context_.get()));
    received_ = BIO_new(BIO_s_mem());
    outgoing_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_.get(), received_, outgoing_);
    SSL_set_accept_state(ssl_.get());
  }

  void receive(const std::string& ciphertext) {
    BIO_write(received_, ciphertext.data(), static_cast<int>(ciphertext.size()));
  }
  std::string take_outgoing() {
    std::string out(BIO_ctrl_pending(outgoing_), '\0');
    if (!out.empty()) BIO_read(outgoing_, out.data(), static_cast<int>(out.size()));
    return out;
  }
  bool shake_hands() { return SSL_do_handshake(ssl_.get()) == 1; }
  std::string read_all() {
    std::string plaintext;
    char chunk[4096];
    std::size_t size = 0;
    while (SSL_read_ex(ssl_.get(), chunk, sizeof chunk, &size) == 1) plaintext.append(chunk, size);
    return plaintext;
  }
  void write(const std::string& plaintext) {
    std::size_t written = 0;
    REQUIRE(SSL_write_ex(ssl_.get(), plaintext.data(), plaintext.size(), &written) == 1);
  }
  void close_notify() { SSL_shutdown(ssl_.get()); }

 private:
  struct FreeContext {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
  };
  struct FreeSsl {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };
  std::unique_ptr<SSL_CTX, FreeContext> context_;
  std::unique_ptr<SSL, FreeSsl> ssl_;
  BIO* received_;
  BIO* outgoing_;
};

std::shared_ptr<boost::asio::ssl::context> client_context(const std::string& ca) {
  TlsOptions options;
  options.ca_file = ca;
  return routemq::net::make_tls_context(options, "test.tls");
}

// Runs both handshakes to their end (or the client's failure), the client's bytes cut into pieces of
// `piece` bytes. Returns the client's last step.
TlsSession::Handshake handshake(TlsSession& client, MemoryServer& server, std::size_t piece = SIZE_MAX) {
  TlsSession::Handshake step;
  std::string bytes;
  for (int round = 0; round < 10000 && !step.finished && !step.error; ++round) {
    step = client.handshake();
    client.take_outgoing(bytes);
    server.receive(bytes);
    server.shake_hands();
    const auto answer = server.take_outgoing();
    for (std::size_t at = 0; at < answer.size() && !step.error; at += piece) {
      client.receive(std::string_view(answer).substr(at, piece));
      if (at + piece < answer.size()) step = client.handshake();
    }
  }
  return step;
}

std::string sent_by(TlsSession& client) {
  std::string bytes;
  client.take_outgoing(bytes);
  return bytes;
}

}  // namespace

TEST_CASE("tls session: a handshake over memory, then commands out and replies in, large and small") {
  const auto& certificates = routemq::test::test_certificates();
  const auto context = client_context(certificates.ca);
  TlsSession client(context->native_handle(), "localhost", true);
  MemoryServer server(certificates.server);
  const auto step = handshake(client, server);
  REQUIRE(step.finished);
  REQUIRE_FALSE(step.error);

  // A batch larger than many records leaves in one piece of ciphertext.
  std::string commands;
  for (int i = 0; i < 20000; ++i) commands += "*2\r\n$3\r\nGET\r\n$6\r\nkey:" + std::to_string(i % 100) + "\r\n";
  REQUIRE(commands.size() > 10 * 16384);
  REQUIRE_FALSE(client.encrypt(commands));
  server.receive(sent_by(client));
  CHECK(server.read_all() == commands);

  // Everything one read brought is decrypted at once: many records, one call.
  std::string replies;
  for (int i = 0; i < 5000; ++i) replies += "$5\r\nvalue\r\n+OK\r\n";
  server.write(replies);
  client.receive(server.take_outgoing());
  std::string plaintext;
  REQUIRE_FALSE(client.decrypt(plaintext));
  CHECK(plaintext == replies);

  // Nothing new: no plaintext and no error, and encrypting nothing sends nothing.
  plaintext.clear();
  CHECK_FALSE(client.decrypt(plaintext));
  CHECK(plaintext.empty());
  CHECK_FALSE(client.encrypt(""));
  CHECK(sent_by(client).empty());
}

TEST_CASE("tls session: bytes that arrive one at a time still make the handshake and whole replies") {
  const auto& certificates = routemq::test::test_certificates();
  const auto context = client_context(certificates.ca);
  TlsSession client(context->native_handle(), "localhost", true);
  MemoryServer server(certificates.server);
  REQUIRE(handshake(client, server, 1).finished);

  const std::string replies = "*3\r\n$1\r\na\r\n:42\r\n_\r\n" + std::string(40000, 'z');
  server.write(replies);
  const auto ciphertext = server.take_outgoing();
  std::string plaintext;
  for (char byte : ciphertext) {
    client.receive(std::string_view(&byte, 1));
    REQUIRE_FALSE(client.decrypt(plaintext));  // part of a record: nothing yet, and no error
  }
  CHECK(plaintext == replies);
}

TEST_CASE("tls session: the server's close_notify ends the stream after the plaintext before it") {
  const auto& certificates = routemq::test::test_certificates();
  const auto context = client_context(certificates.ca);
  TlsSession client(context->native_handle(), "localhost", true);
  MemoryServer server(certificates.server);
  REQUIRE(handshake(client, server).finished);
  server.write("+PONG\r\n");
  server.close_notify();
  client.receive(server.take_outgoing());
  std::string plaintext;
  CHECK(client.decrypt(plaintext) == boost::asio::error::eof);
  CHECK(plaintext == "+PONG\r\n");
}

TEST_CASE("tls session: a corrupted record is an error, never plaintext") {
  const auto& certificates = routemq::test::test_certificates();
  const auto context = client_context(certificates.ca);
  TlsSession client(context->native_handle(), "localhost", true);
  MemoryServer server(certificates.server);
  REQUIRE(handshake(client, server).finished);
  server.write("$6\r\nsecret\r\n");
  auto ciphertext = server.take_outgoing();
  ciphertext[ciphertext.size() - 3] ^= 0x01;
  client.receive(ciphertext);
  std::string plaintext;
  const auto error = client.decrypt(plaintext);
  CHECK(error);
  CHECK(error.category() == boost::asio::error::get_ssl_category());
  CHECK(plaintext.empty());
}

TEST_CASE("tls session: handshakes that must fail say why") {
  const auto& certificates = routemq::test::test_certificates();
  std::string server_name = "localhost";
  std::string trusted = certificates.ca;
  routemq::test::CertificatePair shown = certificates.server;
  std::string expected;
  SECTION("a CA we do not trust") {
    trusted = certificates.other_ca;
    expected = "unknown CA";
  }
  SECTION("a name the certificate does not carry") {
    server_name = "redis.example.com";
    expected = "hostname mismatch";
  }
  SECTION("an expired certificate") {
    shown = certificates.expired;
    expected = "expired";
  }
  const auto context = client_context(trusted);
  TlsSession client(context->native_handle(), server_name, true);
  MemoryServer server(shown);
  const auto step = handshake(client, server);
  REQUIRE(step.error);
  CHECK_THAT(routemq::net::tls_failure(step.error, client.native_handle(), "test.tls"), Catch::Contains(expected));
}

TEST_CASE("tls session: a plaintext server answering the ClientHello is told apart") {
  const auto& certificates = routemq::test::test_certificates();
  const auto context = client_context(certificates.ca);
  TlsSession client(context->native_handle(), "localhost", true);
  REQUIRE_FALSE(client.handshake().finished);
  CHECK_FALSE(sent_by(client).empty());  // the ClientHello
  client.receive("-ERR Protocol error: unbalanced quotes in request\r\n");
  const auto step = client.handshake();
  REQUIRE(step.error);
  CHECK_THAT(routemq::net::tls_failure(step.error, client.native_handle(), "test.tls"), Catch::Contains("does not speak TLS"));
}

TEST_CASE("tls context: failures name the caller's settings") {
  const auto& certificates = routemq::test::test_certificates();
  TlsOptions options;
  options.ca_file = certificates.ca + ".missing";
  CHECK_THROWS_WITH(routemq::net::make_tls_context(options, "mqtt.tls"),
                    Catch::StartsWith("mqtt.tls.ca_file '" + options.ca_file + "' could not be loaded: "));
  options.ca_file = certificates.ca;
  options.cert_file = certificates.client.cert;
  options.key_file = certificates.server.key;  // not the certificate's: OpenSSL sees the mismatch on loading
  CHECK_THROWS_WITH(routemq::net::make_tls_context(options, "mqtt.tls"), Catch::StartsWith("mqtt.tls.key_file '"));

  const auto context = client_context(certificates.ca);
  TlsSession client(context->native_handle(), "other.example.com", true);
  MemoryServer server(certificates.server);
  const auto step = handshake(client, server);
  REQUIRE(step.error);
  CHECK_THAT(routemq::net::tls_failure(step.error, client.native_handle(), "mqtt.tls"),
             Catch::Contains("set mqtt.tls.server_name to one it carries"));

  TlsSession plaintext(context->native_handle(), "localhost", true);
  REQUIRE_FALSE(plaintext.handshake().finished);
  plaintext.receive("-ERR Protocol error: unbalanced quotes in request\r\n");
  const auto refused = plaintext.handshake();
  REQUIRE(refused.error);
  CHECK(routemq::net::tls_failure(refused.error, plaintext.native_handle(), "mqtt.tls", "a plaintext MQTT port? use 8883") ==
        "TLS: the server does not speak TLS (a plaintext MQTT port? use 8883)");
}
