#pragma once
// The OpenSSL side of TLS to Redis: a client context built once from the settings, and a failed
// handshake explained in words a user can act on (unknown CA, hostname mismatch, expired
// certificate, a server that does not speak TLS). Nothing here prints key material.
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <openssl/ssl.h>

#include "plugins/redis/connection/connection_settings.hpp"

namespace routemq::redis {

// TLS 1.2 or later, the CAs (ca_file, ca_dir, else the system's), our certificate and key when
// given. Throws std::runtime_error naming the setting and file that did not load, and why.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsSettings& settings);

// Makes `ssl` send `server_name` (SNI, unless it is an IP address) and, when verifying, require the
// certificate to carry it (a DNS name, or an IP address SAN).
void expect_server_name(SSL* ssl, const std::string& server_name, bool verify);

// Why the handshake on `ssl` failed with `error`, starting "TLS: ".
std::string tls_failure(const boost::system::error_code& error, SSL* ssl);

}  // namespace routemq::redis
