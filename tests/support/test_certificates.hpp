#pragma once
// Certificates for TLS tests, made by the openssl command at first use (EC P-256: milliseconds) in a
// directory that lives as long as the test process. Every name below is a PEM file.
//
//   ca            the CA that signs everything else
//   server        CN localhost, SAN DNS:localhost and IP:127.0.0.1, valid for a day
//   expired       like server, but its validity ended before it began
//   client        a client certificate for mutual TLS
//   other_ca      an unrelated CA: trusting only it is "a wrong CA"
#include <string>

namespace routemq::test {

struct CertificatePair {
  std::string cert;
  std::string key;
};

struct TestCertificates {
  std::string ca;
  std::string other_ca;
  CertificatePair server;
  CertificatePair expired;
  CertificatePair client;
};

// Throws std::runtime_error with openssl's output when a step fails.
const TestCertificates& test_certificates();

}  // namespace routemq::test
