#include "plugins/redis/script.hpp"

#include "plugins/redis/sha1_hex.hpp"

namespace routemq::redis {

Script::Script(std::string source) : source_(std::move(source)), sha_(sha1_hex(source_)) {}

}  // namespace routemq::redis
