#pragma once
// The OpenSSL side of a TLS client: a context built once from the options, and a failed handshake
// explained in words a user can act on (unknown CA, hostname mismatch, expired certificate, a server
// that does not speak TLS). Nothing here prints key material.
//
// `setting` is the prefix of the caller's settings, named in the words ("mqtt.tls" gives
// "mqtt.tls.ca_file"), so the user knows which setting to change.
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <openssl/ssl.h>

#include "core/net/tls_options.hpp"

namespace routemq::net {

// TLS 1.2 or later, the CAs (ca_file, ca_dir, else the system's), our certificate and key when
// given. Throws std::runtime_error naming the setting and file that did not load, and why.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsOptions& options, std::string_view setting);

// Makes `ssl` send `server_name` (SNI, unless it is an IP address) and, when verifying, require the
// certificate to carry it (a DNS name, or an IP address SAN).
void expect_server_name(SSL* ssl, const std::string& server_name, bool verify);

// Why the handshake on `ssl` failed with `error`, starting "TLS: ". `not_tls_hint` is said when the
// server answered in plaintext ("a plaintext port? use its TLS port").
std::string tls_failure(const boost::system::error_code& error, SSL* ssl, std::string_view setting,
                        std::string_view not_tls_hint = "a plaintext port?");

}  // namespace routemq::net
