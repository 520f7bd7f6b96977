#include "core/net/tls_context.hpp"

#include <stdexcept>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace routemq::net {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's reason for the last failure (which file, which line of PEM is wrong), never the data.
std::string last_openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown error";
}

// `setting`: the caller's full name of the setting that named `file` ("mqtt.tls.ca_file").
void require(bool loaded, const std::string& setting, const std::string& file) {
  if (!loaded)
    throw std::runtime_error(fmt::format("{} '{}' could not be loaded: {}", setting, file, last_openssl_reason()));
}

void load_trusted_cas(SSL_CTX* context, const TlsOptions& options, std::string_view setting) {
  if (options.ca_file.empty() && options.ca_dir.empty()) {
    require(SSL_CTX_set_default_verify_paths(context) == 1, fmt::format("{} (the system's CAs)", setting), "default");
    return;
  }
  if (!options.ca_file.empty())
    require(SSL_CTX_load_verify_locations(context, options.ca_file.c_str(), nullptr) == 1,
            fmt::format("{}.ca_file", setting), options.ca_file);
  if (!options.ca_dir.empty())
    require(SSL_CTX_load_verify_locations(context, nullptr, options.ca_dir.c_str()) == 1,
            fmt::format("{}.ca_dir", setting), options.ca_dir);
}

void load_client_certificate(SSL_CTX* context, const TlsOptions& options, std::string_view setting) {
  if (options.cert_file.empty()) return;
  require(SSL_CTX_use_certificate_chain_file(context, options.cert_file.c_str()) == 1,
          fmt::format("{}.cert_file", setting), options.cert_file);
  require(SSL_CTX_use_PrivateKey_file(context, options.key_file.c_str(), SSL_FILETYPE_PEM) == 1,
          fmt::format("{}.key_file", setting), options.key_file);
  require(SSL_CTX_check_private_key(context) == 1,
          fmt::format("{0}.key_file (does it belong to {0}.cert_file?)", setting), options.key_file);
}

bool unknown_issuer(long verdict) {
  switch (verdict) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return true;
    default:
      return false;
  }
}

// The certificate check's verdict, in words, and what to change.
std::string rejected_certificate(long verdict, std::string_view setting) {
  const std::string openssl_words = X509_verify_cert_error_string(verdict);
  if (verdict == X509_V_ERR_HOSTNAME_MISMATCH || verdict == X509_V_ERR_IP_ADDRESS_MISMATCH)
    return fmt::format("TLS: hostname mismatch: the server's certificate does not carry the name we connect to (set "
                       "{}.server_name to one it carries)",
                       setting);
  if (verdict == X509_V_ERR_CERT_HAS_EXPIRED) return "TLS: the server's certificate has expired";
  if (verdict == X509_V_ERR_CERT_NOT_YET_VALID) return "TLS: the server's certificate is not valid yet";
  if (unknown_issuer(verdict))
    return fmt::format("TLS: unknown CA: the server's certificate is not signed by a CA we trust ({}.ca_file): {}",
                       setting, openssl_words);
  return "TLS: the server's certificate was rejected: " + openssl_words;
}

// A plaintext server answers a ClientHello with bytes that are not a TLS record.
bool not_tls(const boost::system::error_code& error) {
  if (error.category() != boost::asio::error::get_ssl_category()) return false;
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(error.value()));
  return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
         reason == SSL_R_UNKNOWN_PROTOCOL || reason == SSL_R_RECORD_LENGTH_MISMATCH;
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const TlsOptions& options, std::string_view setting) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (options.verify) {
    load_trusted_cas(native, options, setting);
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  }
  load_client_certificate(native, options, setting);
  return context;
}

void expect_server_name(SSL* ssl, const std::string& server_name, bool verify) {
  boost::system::error_code not_an_address;
  boost::asio::ip::make_address(server_name, not_an_address);
  const bool is_address = !not_an_address;
  if (!is_address) SSL_set_tlsext_host_name(ssl, server_name.c_str());  // SNI carries names only (RFC 6066)
  if (!verify) return;
  X509_VERIFY_PARAM* check = SSL_get0_param(ssl);
  if (is_address) {
    X509_VERIFY_PARAM_set1_ip_asc(check, server_name.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(check, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(check, server_name.c_str(), server_name.size());
  }
}

std::string tls_failure(const boost::system::error_code& error, SSL* ssl, std::string_view setting,
                        std::string_view not_tls_hint) {
  if (const long verdict = SSL_get_verify_result(ssl); verdict != X509_V_OK) return rejected_certificate(verdict, setting);
  if (error == boost::asio::error::eof || error == ssl::error::stream_truncated)
    return "TLS: the server closed the connection during the TLS handshake (a port without TLS, or it refused us)";
  if (not_tls(error)) return fmt::format("TLS: the server does not speak TLS ({})", not_tls_hint);
  return "TLS: handshake failed: " + error.message();
}

}  // namespace routemq::net
