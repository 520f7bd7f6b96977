#include "tests/support/test_certificates.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "tests/support/temp_dir.hpp"

namespace routemq::test {
namespace {

// Runs one openssl command line in `dir`; a failure quotes its output.
void openssl(const TempDir& dir, const std::string& arguments) {
  const auto log = (dir / "openssl.log").string();
  const auto command = "cd '" + dir.path().string() + "' && openssl " + arguments + " >'" + log + "' 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::ifstream in(log);
    const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw std::runtime_error("openssl " + arguments + " failed: " + output);
  }
}

const std::string new_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

void make_ca(const TempDir& dir, const std::string& name) {
  openssl(dir, "req -x509 " + new_key + " -keyout " + name + ".key -out " + name + ".crt -days 1 -subj /CN=" + name);
}

// A certificate for `name`, signed by ca, valid for `days` (negative: already expired).
CertificatePair make_signed(const TempDir& dir, const std::string& name, int days) {
  {
    std::ofstream extensions(dir / (name + ".ext"));
    extensions << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  }
  openssl(dir, "req " + new_key + " -keyout " + name + ".key -out " + name + ".csr -subj /CN=localhost");
  openssl(dir, "x509 -req -in " + name + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -out " + name +
                   ".crt -days " + std::to_string(days) + " -extfile " + name + ".ext");
  return {(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
}

TestCertificates make_all(const TempDir& dir) {
  make_ca(dir, "ca");
  make_ca(dir, "other_ca");
  TestCertificates made;
  made.ca = (dir / "ca.crt").string();
  made.other_ca = (dir / "other_ca.crt").string();
  made.server = make_signed(dir, "server", 1);
  made.expired = make_signed(dir, "expired", -1);
  made.client = make_signed(dir, "client", 1);
  return made;
}

}  // namespace

const TestCertificates& test_certificates() {
  static const TempDir dir;
  static const TestCertificates made = make_all(dir);
  return made;
}

}  // namespace routemq::test
