#pragma once
// A command's Result as its typed method returns it: the value, or the method's documented default
// when there is no usable reply (Redis unavailable, an error reply, another type). Sans-IO: the
// RedisManager's commands and typed pipelines decode through these alone.
#include <optional>
#include <string>
#include <vector>

#include "plugins/redis/protocol/result.hpp"

namespace routemq::redis::decode {

std::optional<std::string> string_or_nil(const Result& result);          // GET: nullopt when nil
std::optional<std::string> string_or_nil(Result&& result);               // the same, the value moved out
long long integer_or(const Result& result, long long fallback);          // DEL, LPUSH, TTL ...
std::optional<long long> optional_integer(const Result& result);         // INCR: nullopt when none
std::optional<double> optional_double(const Result& result);             // INCRBYFLOAT, ZSCORE
bool is_ok(const Result& result);                                        // SET, LTRIM: +OK
bool is_one(const Result& result);                                       // EXPIRE, SISMEMBER: :1
std::vector<std::string> strings(const Result& result);                  // LRANGE, SMEMBERS
std::vector<std::optional<std::string>> optional_strings(const Result& result, std::size_t expected);  // MGET
// The replies of MULTI, the queued commands and EXEC, as one outcome: EXEC's reply (nil when a
// WATCHed key changed), or an error reply naming the command Redis refused to queue.
Result transaction_outcome(Result replies);

}  // namespace routemq::redis::decode
