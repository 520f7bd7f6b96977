#include "plugins/redis/random_token.hpp"

#include <random>

#include <fmt/format.h>

namespace routemq::redis {

std::string random_token() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", random(), random());
}

}  // namespace routemq::redis
