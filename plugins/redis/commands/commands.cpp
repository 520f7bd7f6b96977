// Each command's words and its decoder. A decoder turns any Result into the command's value: the
// reply when it is usable, the command's documented default otherwise.
#include "plugins/redis/commands/commands.hpp"

#include "plugins/redis/protocol/decode.hpp"

namespace routemq::redis {

std::string glob_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::optional<std::chrono::milliseconds> expiry_set_by(const SetOptions& options,
                                                       std::optional<std::chrono::seconds> default_ttl) {
  if (options.ex) return *options.ex;
  if (options.px) return *options.px;
  if (options.keepttl) return std::nullopt;
  return default_ttl;
}

namespace cmd {
namespace {

using Builder = CommandBuilder;

// ---- decoders (plain functions: a Command holds a pointer to one)
OptionalString string_or_nil(Result&& result) { return decode::string_or_nil(std::move(result)); }
long long count_or_zero(Result&& result) { return decode::integer_or(result, 0); }
long long ttl_or_missing(Result&& result) { return decode::integer_or(result, -2); }
std::optional<long long> optional_integer(Result&& result) { return decode::optional_integer(result); }
std::optional<double> optional_double(Result&& result) { return decode::optional_double(result); }
bool is_ok(Result&& result) { return decode::is_ok(result); }
bool is_one(Result&& result) { return decode::is_one(result); }
bool is_pong(Result&& result) { return result.succeeded() && result.reply.text == "PONG"; }
std::vector<std::string> strings(Result&& result) { return decode::strings(result); }
std::string type_or_none(Result&& result) { return result.succeeded() ? std::move(result.reply.text) : "none"; }

std::vector<OptionalString> optional_strings(Result&& result) {
  if (!result.succeeded() || !result.reply.is_array()) return {};
  return decode::optional_strings(result, result.reply.elements.size());
}

std::optional<long long> integer_if_any(Result&& result) {
  if (!result.succeeded() || result.reply.type != Reply::Type::integer) return std::nullopt;
  return result.reply.integer;
}

std::map<std::string, std::string> field_map(Result&& result) {
  std::map<std::string, std::string> out;
  const auto flat = decode::strings(result);
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) out.emplace(flat[i], flat[i + 1]);
  return out;
}

std::vector<std::pair<std::string, double>> scored(Result&& result) {
  std::vector<std::pair<std::string, double>> out;
  const auto flat = decode::strings(result);
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
    out.emplace_back(flat[i], decode::optional_double(Result::success(Reply::string(flat[i + 1]))).value_or(0));
  return out;
}

std::optional<std::pair<std::string, std::string>> popped(Result&& result) {
  if (!result.succeeded() || !result.reply.is_array() || result.reply.elements.size() != 2) return std::nullopt;
  return std::pair{std::move(result.reply.elements[0].text), std::move(result.reply.elements[1].text)};
}

// ---- shapes shared by many commands, each told whether its command only reads (a replica may
// answer it: Command::read_only()) or writes
enum class Access { writes, reads };

Builder& with_access(Builder& command, Access access) {
  return access == Access::reads ? command.read_only() : command;
}

template <class T>
Command<T> on_key(const KeySpace& keys, std::string_view verb, std::string_view name, T (*decode)(Result&&), Access access) {
  Builder command(keys, 2);
  command.word(verb).key(name);
  return with_access(command, access).build<T>(decode);
}

template <class T>
Command<T> on_key_and(const KeySpace& keys, std::string_view verb, std::string_view name, std::string_view arg,
                      T (*decode)(Result&&), Access access) {
  Builder command(keys, 3);
  command.word(verb).key(name).word(arg);
  return with_access(command, access).build<T>(decode);
}

template <class T>
Command<T> on_range(const KeySpace& keys, std::string_view verb, std::string_view name, long long start,
                    long long stop, T (*decode)(Result&&), Access access) {
  Builder command(keys, 4);
  command.word(verb).key(name).number(start).number(stop);
  return with_access(command, access).build<T>(decode);
}

// {verb, key, values...}; a count of 0 without sending anything for no values (Redis would refuse
// the command for want of arguments). Every such command here writes (HDEL, LPUSH, SADD ...).
Command<long long> with_values(const KeySpace& keys, std::string_view verb, std::string_view name, const Names& values) {
  if (values.empty()) return Builder::answered_with<long long>(Reply::number(0), count_or_zero);
  Builder command(keys, 2 + values.size());
  command.word(verb).key(name);
  for (const auto& value : values) command.word(value);
  return command.build<long long>(count_or_zero);
}

// {verb, keys...}
template <class T>
Command<T> over_keys(const KeySpace& keys, std::string_view verb, const Names& names, T (*decode)(Result&&),
                     Reply when_none, Access access) {
  if (names.empty()) return Builder::answered_with<T>(std::move(when_none), decode);
  Builder command(keys, 1 + names.size());
  command.word(verb);
  for (const auto& name : names) command.key(name);
  return with_access(command, access).build<T>(decode);
}

}  // namespace

// ---- strings and counters

Command<OptionalString> get(const KeySpace& keys, std::string_view name) {
  return Builder(keys, 2).word("GET").key(name).reads(1).read_only().build<OptionalString>(string_or_nil);
}

Command<bool> set(const KeySpace& keys, std::string_view name, std::string_view value, const SetOptions& options,
                  std::optional<std::chrono::seconds> default_ttl) {
  std::size_t words = 3 + options.nx + options.xx;
  if (options.ex || options.px) words += 2;
  else if (options.keepttl) words += 1;
  else if (default_ttl) words += 2;
  Builder command(keys, words);
  command.word("SET").key(name).word(value);
  if (options.ex) command.word("EX").number(static_cast<long long>(options.ex->count()));
  else if (options.px) command.word("PX").number(static_cast<long long>(options.px->count()));
  else if (options.keepttl) command.word("KEEPTTL");
  else if (default_ttl) command.word("EX").number(static_cast<long long>(default_ttl->count()));
  if (options.nx) command.word("NX");
  if (options.xx) command.word("XX");
  return command.build<bool>(is_ok);
}

Command<bool> setex(const KeySpace& keys, std::string_view name, std::chrono::seconds ttl, std::string_view value) {
  return Builder(keys, 4).word("SETEX").key(name).number(static_cast<long long>(ttl.count())).word(value).build<bool>(is_ok);
}

Command<OptionalString> getdel(const KeySpace& keys, std::string_view name) {
  return on_key(keys, "GETDEL", name, string_or_nil, Access::writes);
}

Command<long long> append(const KeySpace& keys, std::string_view name, std::string_view value) {
  return on_key_and(keys, "APPEND", name, value, count_or_zero, Access::writes);
}

Command<std::optional<long long>> incr(const KeySpace& keys, std::string_view name) {
  return on_key(keys, "INCR", name, optional_integer, Access::writes);
}

Command<std::optional<long long>> incrby(const KeySpace& keys, std::string_view name, long long by) {
  return Builder(keys, 3).word("INCRBY").key(name).number(by).build<std::optional<long long>>(optional_integer);
}

Command<std::optional<double>> incrbyfloat(const KeySpace& keys, std::string_view name, double by) {
  return Builder(keys, 3).word("INCRBYFLOAT").key(name).number(by).build<std::optional<double>>(optional_double);
}

Command<std::optional<long long>> decr(const KeySpace& keys, std::string_view name) {
  return on_key(keys, "DECR", name, optional_integer, Access::writes);
}

Command<std::optional<long long>> decrby(const KeySpace& keys, std::string_view name, long long by) {
  return Builder(keys, 3).word("DECRBY").key(name).number(by).build<std::optional<long long>>(optional_integer);
}

Command<std::vector<OptionalString>> mget(const KeySpace& keys, const Names& names) {
  if (names.empty()) return Builder::answered_with<std::vector<OptionalString>>(Reply::array({}), optional_strings);
  Builder command(keys, 1 + names.size());
  command.word("MGET").reads(static_cast<std::uint32_t>(names.size())).read_only();
  for (const auto& name : names) command.key(name);
  return command.build<std::vector<OptionalString>>(optional_strings);
}

Command<bool> mset(const KeySpace& keys, const std::vector<std::pair<std::string, std::string>>& pairs) {
  if (pairs.empty()) return Builder::answered_with<bool>(Reply::nil(), is_ok);
  Builder command(keys, 1 + 2 * pairs.size());
  command.word("MSET");
  for (const auto& [name, value] : pairs) command.key(name).word(value);
  return command.build<bool>(is_ok);
}

Command<long long> strlen(const KeySpace& keys, std::string_view name) {
  return on_key(keys, "STRLEN", name, count_or_zero, Access::reads);
}

// ---- keys

Command<long long> del(const KeySpace& keys, const Names& names) {
  return over_keys(keys, "DEL", names, count_or_zero, Reply::number(0), Access::writes);
}

Command<long long> unlink(const KeySpace& keys, const Names& names) {
  return over_keys(keys, "UNLINK", names, count_or_zero, Reply::number(0), Access::writes);
}

Command<bool> exists(const KeySpace& keys, std::string_view name) { return on_key(keys, "EXISTS", name, is_one, Access::reads); }

Command<bool> expire(const KeySpace& keys, std::string_view name, std::chrono::seconds ttl) {
  return Builder(keys, 3).word("EXPIRE").key(name).number(static_cast<long long>(ttl.count())).build<bool>(is_one);
}

Command<bool> pexpire(const KeySpace& keys, std::string_view name, std::chrono::milliseconds ttl) {
  return Builder(keys, 3).word("PEXPIRE").key(name).number(static_cast<long long>(ttl.count())).build<bool>(is_one);
}

Command<long long> ttl(const KeySpace& keys, std::string_view name) { return on_key(keys, "TTL", name, ttl_or_missing, Access::reads); }
Command<long long> pttl(const KeySpace& keys, std::string_view name) { return on_key(keys, "PTTL", name, ttl_or_missing, Access::reads); }
Command<bool> persist(const KeySpace& keys, std::string_view name) { return on_key(keys, "PERSIST", name, is_one, Access::writes); }

Command<bool> rename(const KeySpace& keys, std::string_view name, std::string_view new_name) {
  return Builder(keys, 3).word("RENAME").key(name).key(new_name).build<bool>(is_ok);
}

Command<std::string> type(const KeySpace& keys, std::string_view name) { return on_key(keys, "TYPE", name, type_or_none, Access::reads); }

Command<std::optional<long long>> memory_usage(const KeySpace& keys, std::string_view name) {
  return Builder(keys, 3).word("MEMORY").word("USAGE").key(name).read_only().build<std::optional<long long>>(integer_if_any);
}

Command<OptionalString> object_encoding(const KeySpace& keys, std::string_view name) {
  return Builder(keys, 3).word("OBJECT").word("ENCODING").key(name).read_only().build<OptionalString>(string_or_nil);
}

// The prefix is matched, not read as a glob: its own glob characters are escaped. Keyless: a
// cluster scans every master.
Command<Result> scan(const KeySpace& keys, std::string_view cursor, std::string_view pattern) {
  auto match = glob_escape(std::string(keys.prefix()) + std::string(keys.scope()));
  match += pattern;
  return Builder(keys, 6).word("SCAN").word(cursor).word("MATCH").word(match).word("COUNT").word("1000").read_only().build<Result>(undecoded);
}

// ---- hashes

Command<long long> hset(const KeySpace& keys, std::string_view name, std::string_view field, std::string_view value) {
  return Builder(keys, 4).word("HSET").key(name).word(field).word(value).build<long long>(count_or_zero);
}

Command<long long> hset(const KeySpace& keys, std::string_view name, const std::map<std::string, std::string>& mapping) {
  if (mapping.empty()) return Builder::answered_with<long long>(Reply::number(0), count_or_zero);
  Builder command(keys, 2 + 2 * mapping.size());
  command.word("HSET").key(name);
  for (const auto& [field, value] : mapping) command.word(field).word(value);
  return command.build<long long>(count_or_zero);
}

Command<OptionalString> hget(const KeySpace& keys, std::string_view name, std::string_view field) {
  return Builder(keys, 3).word("HGET").key(name).word(field).reads(1).read_only().build<OptionalString>(string_or_nil);
}

Command<std::vector<OptionalString>> hmget(const KeySpace& keys, std::string_view name, const Names& fields) {
  if (fields.empty()) return Builder::answered_with<std::vector<OptionalString>>(Reply::array({}), optional_strings);
  Builder command(keys, 2 + fields.size());
  command.word("HMGET").key(name).read_only();
  for (const auto& field : fields) command.word(field);
  return command.build<std::vector<OptionalString>>(optional_strings);
}

Command<std::map<std::string, std::string>> hgetall(const KeySpace& keys, std::string_view name) {
  return on_key(keys, "HGETALL", name, field_map, Access::reads);
}

Command<long long> hdel(const KeySpace& keys, std::string_view name, const Names& fields) {
  return with_values(keys, "HDEL", name, fields);
}

Command<bool> hexists(const KeySpace& keys, std::string_view name, std::string_view field) {
  return on_key_and(keys, "HEXISTS", name, field, is_one, Access::reads);
}

Command<std::vector<std::string>> hkeys(const KeySpace& keys, std::string_view name) {
  return on_key(keys, "HKEYS", name, strings, Access::reads);
}

Command<std::vector<std::string>> hvals(const KeySpace& keys, std::string_view name) {
  return on_key(keys, "HVALS", name, strings, Access::reads);
}

Command<long long> hlen(const KeySpace& keys, std::string_view name) { return on_key(keys, "HLEN", name, count_or_zero, Access::reads); }

Command<std::optional<long long>> hincrby(const KeySpace& keys, std::string_view name, std::string_view field,
                                          long long by) {
  return Builder(keys, 4).word("HINCRBY").key(name).word(field).number(by).build<std::optional<long long>>(optional_integer);
}

// ---- lists

Command<long long> lpush(const KeySpace& keys, std::string_view name, const Names& values) {
  return with_values(keys, "LPUSH", name, values);
}

Command<long long> rpush(const KeySpace& keys, std::string_view name, const Names& values) {
  return with_values(keys, "RPUSH", name, values);
}

Command<OptionalString> lpop(const KeySpace& keys, std::string_view name) { return on_key(keys, "LPOP", name, string_or_nil, Access::writes); }
Command<OptionalString> rpop(const KeySpace& keys, std::string_view name) { return on_key(keys, "RPOP", name, string_or_nil, Access::writes); }
Command<long long> llen(const KeySpace& keys, std::string_view name) { return on_key(keys, "LLEN", name, count_or_zero, Access::reads); }

Command<OptionalString> lindex(const KeySpace& keys, std::string_view name, long long index) {
  return Builder(keys, 3).word("LINDEX").key(name).number(index).read_only().build<OptionalString>(string_or_nil);
}

Command<std::vector<std::string>> lrange(const KeySpace& keys, std::string_view name, long long start, long long stop) {
  return on_range(keys, "LRANGE", name, start, stop, strings, Access::reads);
}

Command<bool> ltrim(const KeySpace& keys, std::string_view name, long long start, long long stop) {
  return on_range(keys, "LTRIM", name, start, stop, is_ok, Access::writes);
}

Command<std::optional<std::pair<std::string, std::string>>> blpop(const KeySpace& keys, const Names& names,
                                                                  std::chrono::seconds timeout) {
  using Popped = std::optional<std::pair<std::string, std::string>>;
  if (names.empty()) return Builder::answered_with<Popped>(Reply::nil(), popped);
  Builder command(keys, 2 + names.size());
  command.word("BLPOP");
  for (const auto& name : names) command.key(name);
  command.number(static_cast<long long>(timeout.count())).place(CommandPlace::leased);
  return command.build<Popped>(popped);
}

// ---- sets

Command<long long> sadd(const KeySpace& keys, std::string_view name, const Names& members) {
  return with_values(keys, "SADD", name, members);
}

Command<long long> srem(const KeySpace& keys, std::string_view name, const Names& members) {
  return with_values(keys, "SREM", name, members);
}

Command<std::vector<std::string>> smembers(const KeySpace& keys, std::string_view name) {
  return on_key(keys, "SMEMBERS", name, strings, Access::reads);
}

Command<bool> sismember(const KeySpace& keys, std::string_view name, std::string_view member) {
  return on_key_and(keys, "SISMEMBER", name, member, is_one, Access::reads);
}

Command<long long> scard(const KeySpace& keys, std::string_view name) { return on_key(keys, "SCARD", name, count_or_zero, Access::reads); }

Command<std::vector<std::string>> sunion(const KeySpace& keys, const Names& names) {
  return over_keys(keys, "SUNION", names, strings, Reply::array({}), Access::reads);
}

Command<std::vector<std::string>> sinter(const KeySpace& keys, const Names& names) {
  return over_keys(keys, "SINTER", names, strings, Reply::array({}), Access::reads);
}

Command<std::vector<std::string>> sdiff(const KeySpace& keys, const Names& names) {
  return over_keys(keys, "SDIFF", names, strings, Reply::array({}), Access::reads);
}

// ---- sorted sets

Command<long long> zadd(const KeySpace& keys, std::string_view name,
                        const std::vector<std::pair<double, std::string>>& scored_members) {
  if (scored_members.empty()) return Builder::answered_with<long long>(Reply::number(0), count_or_zero);
  Builder command(keys, 2 + 2 * scored_members.size());
  command.word("ZADD").key(name);
  for (const auto& [score, member] : scored_members) command.number(score).word(member);
  return command.build<long long>(count_or_zero);
}

Command<long long> zrem(const KeySpace& keys, std::string_view name, const Names& members) {
  return with_values(keys, "ZREM", name, members);
}

Command<std::vector<std::string>> zrange(const KeySpace& keys, std::string_view name, long long start, long long stop) {
  return on_range(keys, "ZRANGE", name, start, stop, strings, Access::reads);
}

Command<std::vector<std::pair<std::string, double>>> zrange_withscores(const KeySpace& keys, std::string_view name,
                                                                       long long start, long long stop) {
  return Builder(keys, 5).word("ZRANGE").key(name).number(start).number(stop).word("WITHSCORES").read_only()
      .build<std::vector<std::pair<std::string, double>>>(scored);
}

Command<std::vector<std::string>> zrevrange(const KeySpace& keys, std::string_view name, long long start,
                                            long long stop) {
  return on_range(keys, "ZREVRANGE", name, start, stop, strings, Access::reads);
}

Command<std::vector<std::string>> zrangebyscore(const KeySpace& keys, std::string_view name, std::string_view min,
                                                std::string_view max) {
  return Builder(keys, 4).word("ZRANGEBYSCORE").key(name).word(min).word(max).read_only().build<std::vector<std::string>>(strings);
}

Command<std::optional<long long>> zrank(const KeySpace& keys, std::string_view name, std::string_view member) {
  return on_key_and(keys, "ZRANK", name, member, optional_integer, Access::reads);
}

Command<std::optional<double>> zscore(const KeySpace& keys, std::string_view name, std::string_view member) {
  return on_key_and(keys, "ZSCORE", name, member, optional_double, Access::reads);
}

Command<long long> zcard(const KeySpace& keys, std::string_view name) { return on_key(keys, "ZCARD", name, count_or_zero, Access::reads); }

Command<std::optional<double>> zincrby(const KeySpace& keys, std::string_view name, double by, std::string_view member) {
  return Builder(keys, 4).word("ZINCRBY").key(name).number(by).word(member).build<std::optional<double>>(optional_double);
}

Command<long long> zremrangebyscore(const KeySpace& keys, std::string_view name, std::string_view min,
                                    std::string_view max) {
  return Builder(keys, 4).word("ZREMRANGEBYSCORE").key(name).word(min).word(max).build<long long>(count_or_zero);
}

// ---- scripts, pub/sub and the server

namespace {

// EVALSHA or EVAL (`verb`) of `body`, with its KEYS, its ARGV, then any commands already encoded.
Command<Result> script(const KeySpace& keys, std::string_view verb, std::string_view body, const Names& names,
                       const Names& args, const EncodedCommands& commands = {}) {
  std::size_t words = 3 + names.size() + args.size();
  for (const auto& command : commands) words += 1 + command.words;
  Builder call(keys, words);
  call.word(verb).word(body).number(static_cast<long long>(names.size()));
  for (const auto& name : names) call.key(name);
  for (const auto& arg : args) call.word(arg);
  for (const auto& command : commands) call.number(static_cast<long long>(command.words)).encoded(command.words, command.encoded);
  return call.build<Result>(undecoded);
}

}  // namespace

Command<Result> evalsha(const KeySpace& keys, std::string_view sha, const Names& names, const Names& args) {
  return script(keys, "EVALSHA", sha, names, args);
}

Command<Result> eval(const KeySpace& keys, std::string_view source, const Names& names, const Names& args) {
  return script(keys, "EVAL", source, names, args);
}

Command<Result> evalsha_over(const KeySpace& keys, std::string_view sha, const Names& names, const Names& args,
                             const EncodedCommands& commands) {
  return script(keys, "EVALSHA", sha, names, args, commands);
}

Command<Result> eval_over(const KeySpace& keys, std::string_view source, const Names& names, const Names& args,
                          const EncodedCommands& commands) {
  return script(keys, "EVAL", source, names, args, commands);
}

Command<long long> publish(const KeySpace& keys, std::string_view channel, std::string_view message) {
  return Builder(keys, 3).word("PUBLISH").word(channel).word(message).build<long long>(count_or_zero);
}

Command<bool> ping(const KeySpace& keys) { return Builder(keys, 1).word("PING").build<bool>(is_pong); }

Command<Result> info(const KeySpace& keys, const Names& sections) {
  Builder command(keys, 1 + sections.size());
  command.word("INFO");
  for (const auto& section : sections) command.word(section);
  return command.build<Result>(undecoded);
}

Command<long long> dbsize(const KeySpace& keys) { return Builder(keys, 1).word("DBSIZE").build<long long>(count_or_zero); }

}  // namespace cmd
}  // namespace routemq::redis
