#include "plugins/redis/random_token.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <stdexcept>

#include "plugins/redis/hex.hpp"

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
  return lower_hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

}  // namespace routemq::redis
