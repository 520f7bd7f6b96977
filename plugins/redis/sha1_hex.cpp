#include "plugins/redis/sha1_hex.hpp"

#include <openssl/sha.h>

#include <fmt/format.h>

namespace routemq::redis {

std::string sha1_hex(std::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string hex;
  for (unsigned char byte : digest) hex += fmt::format("{:02x}", byte);
  return hex;
}

}  // namespace routemq::redis
