#pragma once
// What a TLS client context is built from (make_tls_context, tls_context.hpp): the CAs to trust, our
// certificate for servers that check clients, and how the server's certificate is checked. Every
// plugin or client that speaks TLS reads its own settings into one of these.
#include <string>

namespace routemq::net {

struct TlsOptions {
  std::string ca_file;      // PEM: the CAs that may sign the server's certificate
  std::string ca_dir;       // a directory of hashed CA certificates (c_rehash)
  std::string cert_file;    // PEM: our certificate, for servers that check clients (mutual TLS)
  std::string key_file;     // PEM: its private key
  bool verify = true;       // check the server's certificate and name; off only for tests
  std::string server_name;  // SNI and the name the certificate must carry; empty: the host
};

}  // namespace routemq::net
