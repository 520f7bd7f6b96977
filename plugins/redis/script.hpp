#pragma once
// A Lua script that remembers its SHA1: run with EVALSHA, falling back to EVAL when Redis answers
// NOSCRIPT (after a restart or SCRIPT FLUSH), so scripts keep working without a reload step.
//
//   static const redis::Script incr_capped("local v = redis.call('INCR', KEYS[1]) ...");
//   std::vector<std::string> keys{"counter"}, args{"10"};   // named: GCC 12 rejects a braced list in a co_await
//   auto result = co_await redis.eval(incr_capped, keys, args);
#include <string>

namespace routemq::redis {

struct Result;

// Redis does not have the script (NOSCRIPT, after a restart or SCRIPT FLUSH): call it again with its
// source (EVAL), which loads it.
bool needs_source(const Result& evalsha_result);

class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha() const { return sha_; }  // lowercase hex SHA1, as Redis computes it

 private:
  std::string source_;
  std::string sha_;
};

}  // namespace routemq::redis
