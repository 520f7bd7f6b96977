#include "plugins/redis/random_token.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <stdexcept>

namespace routemq::redis {

// From the kernel's CSPRNG (getrandom): a lock token or a dedupe claim another client could guess
// would let it release a lock it does not hold, or mark someone else's message done. Not OpenSSL's
// RAND_bytes: that keeps state per calling thread, which threads ending at exit leave behind.
std::string random_token() {
  std::array<unsigned char, 16> bytes{};
  for (std::size_t filled = 0; filled < bytes.size();) {
    const auto got = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw std::runtime_error("random_token: getrandom failed");
    filled += static_cast<std::size_t>(got);
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string token(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    token[2 * i] = digits[bytes[i] >> 4];
    token[2 * i + 1] = digits[bytes[i] & 0x0f];
  }
  return token;
}

}  // namespace routemq::redis
