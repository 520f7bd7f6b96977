#include "plugins/redis/script.hpp"

#include "plugins/redis/protocol/result.hpp"
#include "plugins/redis/sha1_hex.hpp"

namespace routemq::redis {

bool needs_source(const Result& evalsha_result) {
  return evalsha_result.ok() && evalsha_result.reply.is_error() && evalsha_result.reply.text.starts_with("NOSCRIPT");
}

Script::Script(std::string source) : source_(std::move(source)), sha_(sha1_hex(source_)) {}

}  // namespace routemq::redis
