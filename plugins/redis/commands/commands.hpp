#pragma once
// Every typed Redis command, once: one factory per command, grouped by family. The RedisManager's
// methods of the same names run them (redis_manager.hpp), a Pipeline queues them (pipeline.hpp), and
// both decode their replies the same way, into the same defaults. Keys are names in the KeySpace
// given (redis.key_space()): the factory prefixes them.
//
//   co_await redis.run(cmd::hincrby(redis.key_space(), "stats", "readings", 1));
//
// Each comment says the value when there is no usable reply (Redis unavailable, an error reply).
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugins/redis/commands/command.hpp"
#include "plugins/redis/protocol/kept_replies.hpp"

namespace routemq::redis {

struct SetOptions {
  std::optional<std::chrono::seconds> ex{};        // EX seconds
  std::optional<std::chrono::milliseconds> px{};   // PX milliseconds
  bool nx = false;                                 // only if absent
  bool xx = false;                                 // only if present
  bool keepttl = false;                            // keep the existing TTL
};

// The TTL a SET with `options` gives its value, read as the command is written (EX before PX, then
// KEEPTTL, then the default TTL); nullopt: none, or KEEPTTL's (the one the key had, unknown here).
std::optional<std::chrono::milliseconds> expiry_set_by(const SetOptions& options,
                                                       std::optional<std::chrono::seconds> default_ttl);

// `text` with the glob characters of SCAN MATCH (* ? [ ] \) escaped: user data in a pattern matches
// only itself. invalidate_pattern("user:" + glob_escape(id) + ":*")
std::string glob_escape(std::string_view text);

namespace cmd {

using Names = std::vector<std::string>;
using OptionalString = std::optional<std::string>;

// ---- strings and counters (reads: GET, MGET count hits and misses)
Command<OptionalString> get(const KeySpace& keys, std::string_view name);  // nullopt
// `default_ttl` applies when `options` give no expiry (and no KEEPTTL).
Command<bool> set(const KeySpace& keys, std::string_view name, std::string_view value, const SetOptions& options,
                  std::optional<std::chrono::seconds> default_ttl);  // false (also when NX/XX did not set it)
Command<bool> setex(const KeySpace& keys, std::string_view name, std::chrono::seconds ttl, std::string_view value);
Command<OptionalString> getdel(const KeySpace& keys, std::string_view name);                // nullopt
Command<long long> append(const KeySpace& keys, std::string_view name, std::string_view value);  // 0
Command<std::optional<long long>> incr(const KeySpace& keys, std::string_view name);        // nullopt
Command<std::optional<long long>> incrby(const KeySpace& keys, std::string_view name, long long by);
Command<std::optional<double>> incrbyfloat(const KeySpace& keys, std::string_view name, double by);
Command<std::optional<long long>> decr(const KeySpace& keys, std::string_view name);
Command<std::optional<long long>> decrby(const KeySpace& keys, std::string_view name, long long by);
// One value per name, in order; empty when unavailable (RedisManager::mget pads it, one per name).
Command<std::vector<OptionalString>> mget(const KeySpace& keys, const Names& names);
// All pairs; with each key's TTL as an EXPIRE per key, the caller runs it in a transaction.
Command<bool> mset(const KeySpace& keys, const std::vector<std::pair<std::string, std::string>>& pairs);
Command<long long> strlen(const KeySpace& keys, std::string_view name);  // 0

// ---- keys
Command<long long> del(const KeySpace& keys, const Names& names);     // 0; nothing sent for no names
Command<long long> unlink(const KeySpace& keys, const Names& names);  // 0; nothing sent for no names
Command<bool> exists(const KeySpace& keys, std::string_view name);    // false
Command<bool> expire(const KeySpace& keys, std::string_view name, std::chrono::seconds ttl);        // false
Command<bool> pexpire(const KeySpace& keys, std::string_view name, std::chrono::milliseconds ttl);  // false
Command<long long> ttl(const KeySpace& keys, std::string_view name);   // -2 (missing), -1 no expiry
Command<long long> pttl(const KeySpace& keys, std::string_view name);  // -2 (missing), -1 no expiry
Command<bool> persist(const KeySpace& keys, std::string_view name);    // false
Command<bool> rename(const KeySpace& keys, std::string_view name, std::string_view new_name);  // false
Command<std::string> type(const KeySpace& keys, std::string_view name);  // "none"
Command<std::optional<long long>> memory_usage(const KeySpace& keys, std::string_view name);  // nullopt
Command<OptionalString> object_encoding(const KeySpace& keys, std::string_view name);          // nullopt
// SCAN from `cursor` over the keys under the prefix matching the glob `pattern` (the prefix's own
// glob characters escaped). The raw reply: [next cursor, [full names...]].
Command<Result> scan(const KeySpace& keys, std::string_view cursor, std::string_view pattern);

// ---- hashes (reads: HGET)
Command<long long> hset(const KeySpace& keys, std::string_view name, std::string_view field, std::string_view value);
Command<long long> hset(const KeySpace& keys, std::string_view name,
                        const std::map<std::string, std::string>& mapping);  // 0; nothing sent when empty
Command<OptionalString> hget(const KeySpace& keys, std::string_view name, std::string_view field);  // nullopt
Command<std::vector<OptionalString>> hmget(const KeySpace& keys, std::string_view name, const Names& fields);
Command<std::map<std::string, std::string>> hgetall(const KeySpace& keys, std::string_view name);  // {}
Command<long long> hdel(const KeySpace& keys, std::string_view name, const Names& fields);         // 0
Command<bool> hexists(const KeySpace& keys, std::string_view name, std::string_view field);       // false
Command<std::vector<std::string>> hkeys(const KeySpace& keys, std::string_view name);             // {}
Command<std::vector<std::string>> hvals(const KeySpace& keys, std::string_view name);             // {}
Command<long long> hlen(const KeySpace& keys, std::string_view name);                             // 0
Command<std::optional<long long>> hincrby(const KeySpace& keys, std::string_view name, std::string_view field,
                                          long long by);  // nullopt

// ---- lists
Command<long long> lpush(const KeySpace& keys, std::string_view name, const Names& values);  // 0; none sent
Command<long long> rpush(const KeySpace& keys, std::string_view name, const Names& values);  // 0; none sent
Command<OptionalString> lpop(const KeySpace& keys, std::string_view name);                   // nullopt
Command<OptionalString> rpop(const KeySpace& keys, std::string_view name);                   // nullopt
Command<long long> llen(const KeySpace& keys, std::string_view name);                        // 0
Command<OptionalString> lindex(const KeySpace& keys, std::string_view name, long long index);  // nullopt
Command<std::vector<std::string>> lrange(const KeySpace& keys, std::string_view name, long long start, long long stop);
Command<bool> ltrim(const KeySpace& keys, std::string_view name, long long start, long long stop);  // false
// Blocks its connection: runs only on one of its own (place() leased). {key as stored, value}.
Command<std::optional<std::pair<std::string, std::string>>> blpop(const KeySpace& keys, const Names& names,
                                                                  std::chrono::seconds timeout);

// ---- sets
Command<long long> sadd(const KeySpace& keys, std::string_view name, const Names& members);  // 0; none sent
Command<long long> srem(const KeySpace& keys, std::string_view name, const Names& members);  // 0; none sent
Command<std::vector<std::string>> smembers(const KeySpace& keys, std::string_view name);     // {}
Command<bool> sismember(const KeySpace& keys, std::string_view name, std::string_view member);  // false
Command<long long> scard(const KeySpace& keys, std::string_view name);                          // 0
Command<std::vector<std::string>> sunion(const KeySpace& keys, const Names& names);  // {}; none sent
Command<std::vector<std::string>> sinter(const KeySpace& keys, const Names& names);
Command<std::vector<std::string>> sdiff(const KeySpace& keys, const Names& names);

// ---- sorted sets
Command<long long> zadd(const KeySpace& keys, std::string_view name,
                        const std::vector<std::pair<double, std::string>>& scored_members);  // 0; none sent
Command<long long> zrem(const KeySpace& keys, std::string_view name, const Names& members);  // 0; none sent
Command<std::vector<std::string>> zrange(const KeySpace& keys, std::string_view name, long long start, long long stop);
Command<std::vector<std::pair<std::string, double>>> zrange_withscores(const KeySpace& keys, std::string_view name,
                                                                       long long start, long long stop);
Command<std::vector<std::string>> zrevrange(const KeySpace& keys, std::string_view name, long long start,
                                            long long stop);
Command<std::vector<std::string>> zrangebyscore(const KeySpace& keys, std::string_view name, std::string_view min,
                                                std::string_view max);
Command<std::optional<long long>> zrank(const KeySpace& keys, std::string_view name, std::string_view member);
Command<std::optional<double>> zscore(const KeySpace& keys, std::string_view name, std::string_view member);
Command<long long> zcard(const KeySpace& keys, std::string_view name);  // 0
Command<std::optional<double>> zincrby(const KeySpace& keys, std::string_view name, double by,
                                       std::string_view member);
Command<long long> zremrangebyscore(const KeySpace& keys, std::string_view name, std::string_view min,
                                    std::string_view max);  // 0

// ---- scripts, pub/sub and the server (no keys but a script's)
// A script by its SHA-1, or by its source (which loads it), `names` as its KEYS: the raw Result.
Command<Result> evalsha(const KeySpace& keys, std::string_view sha, const Names& names, const Names& args);
Command<Result> eval(const KeySpace& keys, std::string_view source, const Names& names, const Names& args);
// The same, `args` followed by `commands`, each as its number of words and then its words as they
// were encoded, copied without being read into strings: a pipeline run as one script
// (Pipeline::keep_replies_in).
using EncodedCommands = std::vector<EncodedCommand>;
Command<Result> evalsha_over(const KeySpace& keys, std::string_view sha, const Names& names, const Names& args,
                             const EncodedCommands& commands);
Command<Result> eval_over(const KeySpace& keys, std::string_view source, const Names& names, const Names& args,
                          const EncodedCommands& commands);
Command<long long> publish(const KeySpace& keys, std::string_view channel, std::string_view message);  // 0
Command<bool> ping(const KeySpace& keys);  // false
Command<Result> info(const KeySpace& keys, const Names& sections);
Command<long long> dbsize(const KeySpace& keys);  // 0

}  // namespace cmd
}  // namespace routemq::redis
