// The typed commands of RedisManager: each builds the command with prefixed keys, runs it, and turns
// the reply into its documented type, or into the documented default when there is no usable reply.
#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <span>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/json/bounded_json.hpp"
#include "plugins/redis/redis_manager.hpp"
#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/joined_key.hpp"
#include "plugins/redis/protocol/decode.hpp"
#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/set_arguments.hpp"

namespace routemq::redis {
namespace {

using Strings = std::vector<std::string>;

using namespace decode;

// {verb, key, rest...}: the shape of most multi-value commands.
Strings keyed(const char* verb, std::string key, const Strings& rest) {
  Strings args{verb, std::move(key)};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

std::string number_text(double value) { return fmt::format("{}", value); }

}  // namespace

std::string glob_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// ---- strings and counters

// GET and SET, the commands used most: encoded from views (no vector of argument copies), their key
// joined on the stack, and no coroutines of their own (their replies are read on the way back,
// execute_as: one coroutine frame less per command).
awaitable<std::optional<std::string>> RedisManager::get(std::string_view name) {
  const auto joined = joined_key(name);
  const auto full = joined.view();
  const std::array<std::string_view, 2> args{"GET", full};
  const auto read = [](RedisManager& self, Result&& result) {
    auto value = string_or_nil(std::move(result));
    self.count_read(value.has_value());
    return value;
  };
  return execute_as<std::optional<std::string>>(encode_views(args), 1, read, full);
}

awaitable<bool> RedisManager::set(std::string_view name, std::string_view value, SetOptions options) {
  const auto joined = joined_key(name);
  const auto full = joined.view();
  const SetArguments args(full, value, options, default_ttl());
  return execute_as<bool>(encode_views(args.views()), 1, [](RedisManager&, Result&& result) { return is_ok(result); }, full);
}

awaitable<bool> RedisManager::setex(std::string_view name, std::chrono::seconds ttl, std::string_view value) {
  Strings request{"SETEX", key(name), std::to_string(ttl.count()), std::string(value)};
  co_return is_ok(co_await run(std::move(request)));
}

awaitable<std::optional<std::string>> RedisManager::getdel(std::string_view name) {
  Strings request{"GETDEL", key(name)};
  co_return string_or_nil(co_await run(std::move(request)));
}

awaitable<long long> RedisManager::append(std::string_view name, std::string_view value) {
  Strings request{"APPEND", key(name), std::string(value)};
  co_return integer_or(co_await run(std::move(request)), 0);
}

awaitable<std::optional<long long>> RedisManager::incr(std::string_view name) {
  Strings request{"INCR", key(name)};
  co_return optional_integer(co_await run(std::move(request)));
}

awaitable<std::optional<long long>> RedisManager::incrby(std::string_view name, long long by) {
  Strings request{"INCRBY", key(name), std::to_string(by)};
  co_return optional_integer(co_await run(std::move(request)));
}

awaitable<std::optional<double>> RedisManager::incrbyfloat(std::string_view name, double by) {
  Strings request{"INCRBYFLOAT", key(name), number_text(by)};
  co_return optional_double(co_await run(std::move(request)));
}

awaitable<std::optional<long long>> RedisManager::decr(std::string_view name) {
  Strings request{"DECR", key(name)};
  co_return optional_integer(co_await run(std::move(request)));
}

awaitable<std::optional<long long>> RedisManager::decrby(std::string_view name, long long by) {
  Strings request{"DECRBY", key(name), std::to_string(by)};
  co_return optional_integer(co_await run(std::move(request)));
}

awaitable<std::vector<std::optional<std::string>>> RedisManager::mget(std::vector<std::string> names) {
  if (names.empty()) co_return std::vector<std::optional<std::string>>{};
  Strings args{"MGET"};
  for (const auto& name : names) args.push_back(key(name));
  auto values = optional_strings(co_await run(std::move(args)), names.size());
  for (const auto& value : values) count_read(value.has_value());
  co_return values;
}

awaitable<bool> RedisManager::mset(std::vector<std::pair<std::string, std::string>> pairs,
                                   std::optional<std::chrono::seconds> expiry) {
  if (pairs.empty()) co_return false;
  if (on_cluster() && !one_slot(pairs)) co_return co_await mset_across_slots(std::move(pairs), expiry);
  Batch batch;
  Strings args{"MSET"};
  for (const auto& [name, value] : pairs) args.insert(args.end(), {key(name), value});
  batch.push(std::move(args));
  if (auto ttl = expiry ? expiry : default_ttl())
    for (const auto& [name, value] : pairs) batch.push({"EXPIRE", key(name), std::to_string(ttl->count())});
  auto result = co_await run_transaction(batch);
  co_return result.succeeded() && result.reply.is_array() && !result.reply.elements.empty() &&
      result.reply.elements.front().text == "OK";
}

bool RedisManager::one_slot(const std::vector<std::pair<std::string, std::string>>& pairs) const {
  const auto slot = hash_slot(key(pairs.front().first));
  return std::all_of(pairs.begin(), pairs.end(), [&](const auto& pair) { return hash_slot(key(pair.first)) == slot; });
}

// No transaction spans slots: each key is SET with its TTL in one command, all of them in one
// pipeline (the cluster sends each slot's part to its master at once).
awaitable<bool> RedisManager::mset_across_slots(std::vector<std::pair<std::string, std::string>> pairs,
                                                std::optional<std::chrono::seconds> expiry) {
  const auto ttl = expiry ? expiry : default_ttl();
  Batch batch;
  for (auto& [name, value] : pairs) {
    Strings args{"SET", key(name), std::move(value)};
    if (ttl) args.insert(args.end(), {"EX", std::to_string(ttl->count())});
    batch.push(std::move(args));
  }
  const auto results = co_await run_pipeline(batch);
  co_return std::all_of(results.begin(), results.end(), [](const Result& result) {
    return result.succeeded() && result.reply.text == "OK";
  });
}

awaitable<long long> RedisManager::strlen(std::string_view name) {
  Strings request{"STRLEN", key(name)};
  co_return integer_or(co_await run(std::move(request)), 0);
}

// ---- keys

awaitable<long long> RedisManager::del(std::vector<std::string> names) {
  if (names.empty()) co_return 0;
  Strings args{"DEL"};
  for (const auto& name : names) args.push_back(key(name));
  co_return integer_or(co_await run(std::move(args)), 0);
}

awaitable<long long> RedisManager::unlink(std::vector<std::string> names) {
  if (names.empty()) co_return 0;
  Strings args{"UNLINK"};
  for (const auto& name : names) args.push_back(key(name));
  co_return integer_or(co_await run(std::move(args)), 0);
}

awaitable<bool> RedisManager::exists(std::string_view name) {
  Strings request{"EXISTS", key(name)};
  co_return is_one(co_await run(std::move(request)));
}

awaitable<bool> RedisManager::expire(std::string_view name, std::chrono::seconds ttl) {
  Strings request{"EXPIRE", key(name), std::to_string(ttl.count())};
  co_return is_one(co_await run(std::move(request)));
}

awaitable<bool> RedisManager::pexpire(std::string_view name, std::chrono::milliseconds ttl) {
  Strings request{"PEXPIRE", key(name), std::to_string(ttl.count())};
  co_return is_one(co_await run(std::move(request)));
}

awaitable<long long> RedisManager::ttl(std::string_view name) {
  Strings request{"TTL", key(name)};
  co_return integer_or(co_await run(std::move(request)), -2);
}
awaitable<long long> RedisManager::pttl(std::string_view name) {
  Strings request{"PTTL", key(name)};
  co_return integer_or(co_await run(std::move(request)), -2);
}

awaitable<bool> RedisManager::persist(std::string_view name) {
  Strings request{"PERSIST", key(name)};
  co_return is_one(co_await run(std::move(request)));
}

awaitable<bool> RedisManager::rename(std::string_view name, std::string_view new_name) {
  Strings request{"RENAME", key(name), key(new_name)};
  co_return is_ok(co_await run(std::move(request)));
}

awaitable<std::string> RedisManager::type(std::string_view name) {
  Strings request{"TYPE", key(name)};
  auto result = co_await run(std::move(request));
  co_return result.succeeded() ? result.reply.text : std::string("none");
}

awaitable<std::optional<std::vector<std::string>>> RedisManager::scan_page(std::string_view pattern,
                                                                         std::string& cursor) {
  Strings request{"SCAN", cursor, "MATCH", glob_escape(prefix()) + std::string(pattern), "COUNT", "1000"};
  auto result = co_await run(std::move(request));
  if (!result.succeeded() || !result.reply.is_array() || result.reply.elements.size() != 2) co_return std::nullopt;
  cursor = result.reply.elements[0].text;
  std::vector<std::string> found;
  for (auto& element : result.reply.elements[1].elements) found.push_back(std::move(element.text));
  co_return found;
}

awaitable<std::optional<ScanPage>> RedisManager::scan(std::string_view pattern, std::string cursor) {
  auto page = co_await scan_page(pattern, cursor);
  if (!page) co_return std::nullopt;
  ScanPage out{{}, std::move(cursor)};
  out.names.reserve(page->size());
  for (const auto& full_name : *page) out.names.push_back(strip_prefix(full_name));
  co_return out;
}

awaitable<KeyList> RedisManager::keys(std::string_view pattern, std::size_t limit) {
  KeyList list;
  std::string cursor = "0";
  do {
    const auto page = co_await scan_page(pattern, cursor);
    if (!page) {
      list.interrupted = true;
      break;
    }
    for (const auto& full_name : *page) {
      if (list.names.size() >= limit) {
        list.limit_reached = true;
        co_return list;
      }
      list.names.push_back(strip_prefix(full_name));
    }
  } while (cursor != "0");
  co_return list;
}

awaitable<std::vector<std::string>> RedisManager::keys(std::string_view pattern) {
  auto list = co_await keys(pattern, std::numeric_limits<std::size_t>::max());
  if (list.interrupted)
    spdlog::warn("redis: keys('{}'): Redis stopped answering; {} key(s) found before that", pattern, list.names.size());
  co_return std::move(list.names);
}

awaitable<std::optional<KeyInfo>> RedisManager::key_info(std::string_view name) {
  const auto full = key(name);
  Batch batch;
  batch.push({"TYPE", full}).push({"PTTL", full}).push({"MEMORY", "USAGE", full}).push({"OBJECT", "ENCODING", full});
  const auto replies = co_await run_pipeline(batch);
  if (replies.size() != 4 || !replies[0].succeeded() || replies[0].reply.text == "none") co_return std::nullopt;
  KeyInfo info;
  info.type = replies[0].reply.text;
  info.ttl_ms = integer_or(replies[1], -1);
  if (replies[2].succeeded() && replies[2].reply.type == Reply::Type::integer) info.memory_bytes = replies[2].reply.integer;
  if (replies[3].succeeded()) info.encoding = replies[3].reply.text;
  co_return info;
}

// ---- hashes

awaitable<long long> RedisManager::hset(std::string_view name, std::string_view field, std::string_view value) {
  Strings request{"HSET", key(name), std::string(field), std::string(value)};
  co_return integer_or(co_await run(std::move(request)), 0);
}

awaitable<long long> RedisManager::hset(std::string_view name, const std::map<std::string, std::string>& mapping) {
  if (mapping.empty()) co_return 0;
  Strings args{"HSET", key(name)};
  for (const auto& [field, value] : mapping) args.insert(args.end(), {field, value});
  co_return integer_or(co_await run(std::move(args)), 0);
}

awaitable<std::optional<std::string>> RedisManager::hget(std::string_view name, std::string_view field) {
  Strings request{"HGET", key(name), std::string(field)};
  auto value = string_or_nil(co_await run(std::move(request)));
  count_read(value.has_value());
  co_return value;
}

awaitable<std::vector<std::optional<std::string>>> RedisManager::hmget(std::string_view name,
                                                                         std::vector<std::string> fields) {
  if (fields.empty()) co_return std::vector<std::optional<std::string>>{};
  Strings args = keyed("HMGET", key(name), fields);
  co_return optional_strings(co_await run(std::move(args)), fields.size());
}

awaitable<std::map<std::string, std::string>> RedisManager::hgetall(std::string_view name) {
  std::map<std::string, std::string> out;
  Strings request{"HGETALL", key(name)};
  const auto flat = strings(co_await run(std::move(request)));
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) out.emplace(flat[i], flat[i + 1]);
  co_return out;
}

awaitable<long long> RedisManager::hdel(std::string_view name, std::vector<std::string> fields) {
  return integer_reply("HDEL", name, std::move(fields));
}

awaitable<bool> RedisManager::hexists(std::string_view name, std::string_view field) {
  Strings request{"HEXISTS", key(name), std::string(field)};
  co_return is_one(co_await run(std::move(request)));
}

awaitable<std::vector<std::string>> RedisManager::hkeys(std::string_view name) {
  Strings request{"HKEYS", key(name)};
  co_return strings(co_await run(std::move(request)));
}

awaitable<std::vector<std::string>> RedisManager::hvals(std::string_view name) {
  Strings request{"HVALS", key(name)};
  co_return strings(co_await run(std::move(request)));
}

awaitable<long long> RedisManager::hlen(std::string_view name) {
  Strings request{"HLEN", key(name)};
  co_return integer_or(co_await run(std::move(request)), 0);
}

awaitable<std::optional<long long>> RedisManager::hincrby(std::string_view name, std::string_view field, long long by) {
  Strings request{"HINCRBY", key(name), std::string(field), std::to_string(by)};
  co_return optional_integer(co_await run(std::move(request)));
}

// ---- lists

awaitable<long long> RedisManager::lpush(std::string_view name, std::vector<std::string> values) {
  return integer_reply("LPUSH", name, std::move(values));
}

awaitable<long long> RedisManager::rpush(std::string_view name, std::vector<std::string> values) {
  return integer_reply("RPUSH", name, std::move(values));
}

awaitable<std::optional<std::string>> RedisManager::lpop(std::string_view name) {
  Strings request{"LPOP", key(name)};
  co_return string_or_nil(co_await run(std::move(request)));
}

awaitable<std::optional<std::string>> RedisManager::rpop(std::string_view name) {
  Strings request{"RPOP", key(name)};
  co_return string_or_nil(co_await run(std::move(request)));
}

awaitable<long long> RedisManager::llen(std::string_view name) {
  Strings request{"LLEN", key(name)};
  co_return integer_or(co_await run(std::move(request)), 0);
}

awaitable<std::optional<std::string>> RedisManager::lindex(std::string_view name, long long index) {
  Strings request{"LINDEX", key(name), std::to_string(index)};
  co_return string_or_nil(co_await run(std::move(request)));
}

awaitable<std::vector<std::string>> RedisManager::lrange(std::string_view name, long long start, long long stop) {
  Strings request{"LRANGE", key(name), std::to_string(start), std::to_string(stop)};
  co_return strings(co_await run(std::move(request)));
}

awaitable<bool> RedisManager::ltrim(std::string_view name, long long start, long long stop) {
  Strings request{"LTRIM", key(name), std::to_string(start), std::to_string(stop)};
  co_return is_ok(co_await run(std::move(request)));
}

// ---- sets

awaitable<long long> RedisManager::sadd(std::string_view name, std::vector<std::string> members) {
  return integer_reply("SADD", name, std::move(members));
}

awaitable<long long> RedisManager::srem(std::string_view name, std::vector<std::string> members) {
  return integer_reply("SREM", name, std::move(members));
}

awaitable<std::vector<std::string>> RedisManager::smembers(std::string_view name) {
  Strings request{"SMEMBERS", key(name)};
  co_return strings(co_await run(std::move(request)));
}

awaitable<bool> RedisManager::sismember(std::string_view name, std::string_view member) {
  Strings request{"SISMEMBER", key(name), std::string(member)};
  co_return is_one(co_await run(std::move(request)));
}

awaitable<long long> RedisManager::scard(std::string_view name) {
  Strings request{"SCARD", key(name)};
  co_return integer_or(co_await run(std::move(request)), 0);
}

awaitable<std::vector<std::string>> RedisManager::sunion(std::vector<std::string> names) {
  return set_operation("SUNION", std::move(names));
}

awaitable<std::vector<std::string>> RedisManager::sinter(std::vector<std::string> names) {
  return set_operation("SINTER", std::move(names));
}

awaitable<std::vector<std::string>> RedisManager::sdiff(std::vector<std::string> names) {
  return set_operation("SDIFF", std::move(names));
}

// {verb, key, values...} answered with a count; nothing to send for no values.
awaitable<long long> RedisManager::integer_reply(const char* verb, std::string_view name, std::vector<std::string> values) {
  if (values.empty()) co_return 0;
  Strings args = keyed(verb, key(name), values);
  co_return integer_or(co_await run(std::move(args)), 0);
}

awaitable<std::vector<std::string>> RedisManager::set_operation(const char* verb, std::vector<std::string> names) {
  if (names.empty()) co_return Strings{};
  Strings args{verb};
  for (const auto& name : names) args.push_back(key(name));
  co_return strings(co_await run(std::move(args)));
}

// ---- sorted sets

awaitable<long long> RedisManager::zadd(std::string_view name, std::vector<std::pair<double, std::string>> scored) {
  if (scored.empty()) co_return 0;
  Strings args{"ZADD", key(name)};
  for (const auto& [score, member] : scored) args.insert(args.end(), {number_text(score), member});
  co_return integer_or(co_await run(std::move(args)), 0);
}

awaitable<long long> RedisManager::zrem(std::string_view name, std::vector<std::string> members) {
  return integer_reply("ZREM", name, std::move(members));
}

awaitable<std::vector<std::string>> RedisManager::zrange(std::string_view name, long long start, long long stop) {
  Strings request{"ZRANGE", key(name), std::to_string(start), std::to_string(stop)};
  co_return strings(co_await run(std::move(request)));
}

awaitable<std::vector<std::pair<std::string, double>>> RedisManager::zrange_withscores(std::string_view name,
                                                                                       long long start, long long stop) {
  Strings request{"ZRANGE", key(name), std::to_string(start), std::to_string(stop), "WITHSCORES"};
  const auto flat = strings(co_await run(std::move(request)));
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
    out.emplace_back(flat[i], optional_double(Result::success(Reply::string(flat[i + 1]))).value_or(0));
  co_return out;
}

awaitable<std::vector<std::string>> RedisManager::zrevrange(std::string_view name, long long start, long long stop) {
  Strings request{"ZREVRANGE", key(name), std::to_string(start), std::to_string(stop)};
  co_return strings(co_await run(std::move(request)));
}

awaitable<std::vector<std::string>> RedisManager::zrangebyscore(std::string_view name, std::string_view min,
                                                                std::string_view max) {
  Strings request{"ZRANGEBYSCORE", key(name), std::string(min), std::string(max)};
  co_return strings(co_await run(std::move(request)));
}

awaitable<std::optional<long long>> RedisManager::zrank(std::string_view name, std::string_view member) {
  Strings request{"ZRANK", key(name), std::string(member)};
  co_return optional_integer(co_await run(std::move(request)));
}

awaitable<std::optional<double>> RedisManager::zscore(std::string_view name, std::string_view member) {
  Strings request{"ZSCORE", key(name), std::string(member)};
  co_return optional_double(co_await run(std::move(request)));
}

awaitable<long long> RedisManager::zcard(std::string_view name) {
  Strings request{"ZCARD", key(name)};
  co_return integer_or(co_await run(std::move(request)), 0);
}

awaitable<std::optional<double>> RedisManager::zincrby(std::string_view name, double by, std::string_view member) {
  Strings request{"ZINCRBY", key(name), number_text(by), std::string(member)};
  co_return optional_double(co_await run(std::move(request)));
}

awaitable<long long> RedisManager::zremrangebyscore(std::string_view name, std::string_view min, std::string_view max) {
  Strings request{"ZREMRANGEBYSCORE", key(name), std::string(min), std::string(max)};
  co_return integer_or(co_await run(std::move(request)), 0);
}

// ---- JSON

awaitable<bool> RedisManager::set_json(std::string_view name, const nlohmann::json& value,
                                       std::optional<std::chrono::seconds> ttl) {
  SetOptions options;
  options.ex = ttl;
  co_return co_await set_json(name, value, options);
}

awaitable<bool> RedisManager::set_json(std::string_view name, const nlohmann::json& value, SetOptions options) {
  std::string text;
  try {
    text = value.dump();
  } catch (const nlohmann::json::exception& e) {  // strings that are not UTF-8: refused, not mangled
    spdlog::warn("redis: set_json '{}' not stored: {}", name, e.what());
    co_return false;
  }
  co_return co_await set(name, text, options);
}

awaitable<JsonValue> RedisManager::get_json(std::string_view name) {
  auto text = co_await get(name);
  JsonValue out;
  if (!text) co_return out;
  auto parsed = parse_json(*text);  // bounded like payloads: a stored value is outside input too
  if (!parsed.value) {
    out.error = parsed.too_deep ? fmt::format("the value of '{}' is not valid JSON: {}", name, parsed.error)
                                : fmt::format("the value of '{}' is not valid JSON", name);  // not quoting it
    spdlog::warn("redis: {}", out.error);
  } else {
    out.value = std::move(parsed.value);
  }
  co_return out;
}

// ---- pub/sub

awaitable<long long> RedisManager::publish(std::string_view channel, std::string_view message) {
  Strings request{"PUBLISH", std::string(channel), std::string(message)};
  co_return integer_or(co_await run(std::move(request)), 0);
}

// ---- the server, for operators

awaitable<ServerView> RedisManager::server_view(std::size_t sample) {
  ServerView view;
  Strings info_command{"INFO", "memory", "stats", "keyspace"};
  auto info = co_await run(std::move(info_command));
  if (!info.succeeded()) co_return view;
  view.available = true;
  std::string_view text = info.reply.text;
  std::map<std::string, std::string>* section = &view.memory;
  while (!text.empty()) {
    const auto end = text.find("\r\n");
    const auto line = text.substr(0, end);
    if (line.starts_with("# ")) section = line == "# Memory" ? &view.memory : &view.server_stats;
    else if (const auto colon = line.find(':'); colon != std::string_view::npos)
      section->emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 2);
  }
  auto number = [&](const std::string& field) -> long long {
    auto it = view.server_stats.find(field);
    return it == view.server_stats.end() ? 0 : std::atoll(it->second.c_str());
  };
  view.commands_processed = number("total_commands_processed");
  const auto hits = number("keyspace_hits"), misses = number("keyspace_misses");
  view.server_hit_rate = hits + misses > 0 ? static_cast<double>(hits) / static_cast<double>(hits + misses) : 0;
  for (const auto& [field, value] : view.server_stats)  // db0:keys=12,expires=3,avg_ttl=0
    if (field.starts_with("db") && value.starts_with("keys=")) view.total_keys += std::atoll(value.c_str() + 5);
  Strings dbsize_command{"DBSIZE"};
  view.dbsize = integer_or(co_await run(std::move(dbsize_command)), 0);
  const auto sampled_keys = (co_await keys("*", sample)).names;
  Batch types;
  for (const auto& name : sampled_keys) types.push({"TYPE", key(name)});
  for (const auto& type_result : co_await run_pipeline(types))
    if (type_result.succeeded()) ++view.types[type_result.reply.text];
  view.sampled = sampled_keys.size();
  co_return view;
}

// UNLINK of one key; false when Redis did not answer (absent or not, the key is gone when true).
awaitable<bool> RedisManager::drop_cached(std::string_view name) {
  std::vector<std::string> request{"UNLINK", key(name)};
  const auto result = co_await run(std::move(request));
  co_return result.succeeded();
}

}  // namespace routemq::redis
