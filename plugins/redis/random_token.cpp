#include "plugins/redis/random_token.hpp"

#include <array>
#include <stdexcept>

#include <openssl/rand.h>

namespace routemq::redis {

// From OpenSSL's CSPRNG: a lock token or a dedupe claim another client could guess would let it
// release a lock it does not hold, or mark someone else's message done.
std::string random_token() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("random_token: OpenSSL's random generator failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string token(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    token[2 * i] = digits[bytes[i] >> 4];
    token[2 * i + 1] = digits[bytes[i] & 0x0f];
  }
  return token;
}

}  // namespace routemq::redis
