#include "plugins/redis/sha1_hex.hpp"

#include <openssl/sha.h>

#include "plugins/redis/hex.hpp"

namespace routemq::redis {

std::string sha1_hex(std::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return lower_hex({reinterpret_cast<const char*>(digest), sizeof digest});
}

}  // namespace routemq::redis
