#include "plugins/redis/script.hpp"

#include <openssl/sha.h>

#include <fmt/format.h>

namespace routemq::redis {

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
  for (unsigned char byte : digest) sha_ += fmt::format("{:02x}", byte);
}

}  // namespace routemq::redis
