// The typed commands of RedisManager: each runs its command (commands/commands.hpp), whose factory
// prefixes the keys and whose decoder gives the documented default when there is no usable reply.
// The few made of several commands put them together here.
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/json/bounded_json.hpp"
#include "plugins/redis/redis_manager.hpp"
#include "plugins/redis/cluster/hash_slot.hpp"
#include "plugins/redis/engine.hpp"
#include "plugins/redis/server_info.hpp"
#include "plugins/redis/pipeline.hpp"
#include "plugins/redis/protocol/decode.hpp"

namespace routemq::redis {

using Strings = std::vector<std::string>;
using OptionalString = std::optional<std::string>;
using Pair = std::pair<std::string, std::string>;

// ---- strings and counters

// On a manager or view that encrypts values (redis.encrypt_values, a view's .encrypt_values), the
// whole-value string commands seal what they store and open what they read, as seed 004's encrypted
// cache does with set() and get(): no value goes to Redis in plaintext by a plain set().
awaitable<OptionalString> RedisManager::get(std::string_view name) {
  if (auto* local = engine_->local_fallback()) return read_or_local(*local, std::string(name), false);
  if (encrypts_values()) return opened(name, run(cmd::get(key_space(), name)));
  return run(cmd::get(key_space(), name));
}

awaitable<bool> RedisManager::set(std::string_view name, std::string_view value, SetOptions options) {
  auto* local = engine_->local_fallback();
  if (!encrypts_values()) {
    if (local) return write_or_local(*local, std::string(name), std::string(value), options);
    return run(cmd::set(key_space(), name, value, options, default_ttl()));
  }
  auto sealed = seal_stored(name, {}, value);
  if (!sealed.bytes) return refused_sealing(name, sealed.error);
  if (local) return write_or_local(*local, std::string(name), std::move(*sealed.bytes), options);
  return run(cmd::set(key_space(), name, *sealed.bytes, options, default_ttl()));
}

awaitable<bool> RedisManager::setex(std::string_view name, std::chrono::seconds ttl, std::string_view value) {
  return set(name, value, {.ex = ttl});
}

awaitable<OptionalString> RedisManager::getdel(std::string_view name) {
  if (auto* local = engine_->local_fallback()) return read_or_local(*local, std::string(name), true);
  if (encrypts_values()) return opened(name, run(cmd::getdel(key_space(), name)));
  return run(cmd::getdel(key_space(), name));
}

// A stored value opened; one that does not open (plaintext, another key, tampered with) is nothing,
// counted and logged with the key's name, never returned as it is.
awaitable<OptionalString> RedisManager::opened(std::string_view name, awaitable<OptionalString> read) {
  const std::string kept_name(name);  // the caller's view may not outlive the first suspension
  auto stored = co_await std::move(read);
  if (!stored) co_return std::nullopt;
  co_return open_value(kept_name, std::move(*stored)).value;
}

awaitable<bool> RedisManager::refused_sealing(std::string_view name, std::string error) {
  spdlog::warn("redis: '{}' not stored: {}", name, error);
  co_return false;
}

awaitable<long long> RedisManager::append(std::string_view name, std::string_view value) {
  return run(cmd::append(key_space(), name, value));
}

awaitable<std::optional<long long>> RedisManager::incr(std::string_view name) { return run(cmd::incr(key_space(), name)); }

awaitable<std::optional<long long>> RedisManager::incrby(std::string_view name, long long by) {
  return run(cmd::incrby(key_space(), name, by));
}

awaitable<std::optional<double>> RedisManager::incrbyfloat(std::string_view name, double by) {
  return run(cmd::incrbyfloat(key_space(), name, by));
}

awaitable<std::optional<long long>> RedisManager::decr(std::string_view name) { return run(cmd::decr(key_space(), name)); }

awaitable<std::optional<long long>> RedisManager::decrby(std::string_view name, long long by) {
  return run(cmd::decrby(key_space(), name, by));
}

// One value per name, nullopt for each when Redis did not answer.
awaitable<std::vector<OptionalString>> RedisManager::mget(std::vector<std::string> names) {
  auto values = co_await run(cmd::mget(key_space(), names));
  values.resize(names.size());
  co_return values;
}

// MSET and each key's EXPIRE in one MULTI/EXEC: all or none.
awaitable<bool> RedisManager::mset(std::vector<Pair> pairs, std::optional<std::chrono::seconds> expiry) {
  if (pairs.empty()) co_return false;
  // EXPIRE 0 deletes the key: MSET then EXPIRE 0 would store, delete, and answer true. Redis refuses
  // SET ... EX 0 itself; this is refused here, before anything is sent.
  if (expiry && expiry->count() <= 0) {
    spdlog::warn("redis: mset of {} key(s) refused: a TTL of {}s would delete them at once (give a positive TTL, "
                 "or none for the default)",
                 pairs.size(), expiry->count());
    co_return false;
  }
  if (on_cluster() && !one_slot(pairs)) co_return co_await mset_across_slots(std::move(pairs), expiry);
  Pipeline transaction(*this);
  transaction.add(cmd::mset(key_space(), pairs));
  if (const auto ttl = expiry ? expiry : default_ttl())
    for (const auto& pair : pairs) transaction.expire(pair.first, *ttl);
  co_return co_await transaction.run_atomically();
}

bool RedisManager::one_slot(const std::vector<Pair>& pairs) const {
  const auto slot = hash_slot(key(pairs.front().first));
  return std::all_of(pairs.begin(), pairs.end(), [&](const auto& pair) { return hash_slot(key(pair.first)) == slot; });
}

// No transaction spans slots: each key is SET with its TTL in one command, all of them in one
// pipeline (the cluster sends each slot's part to its master at once).
awaitable<bool> RedisManager::mset_across_slots(std::vector<Pair> pairs, std::optional<std::chrono::seconds> expiry) {
  Pipeline pipe(*this);
  std::vector<Queued<bool>> stored;
  for (const auto& [name, value] : pairs) stored.push_back(pipe.set(name, value, {.ex = expiry}));
  co_await pipe.run();
  co_return std::all_of(stored.begin(), stored.end(), [](const Queued<bool>& one) { return one.get(); });
}

awaitable<long long> RedisManager::strlen(std::string_view name) { return run(cmd::strlen(key_space(), name)); }

// ---- keys

awaitable<long long> RedisManager::del(std::vector<std::string> names) {
  forget_locally(names);
  co_return co_await run(cmd::del(key_space(), names));
}

awaitable<long long> RedisManager::unlink(std::vector<std::string> names) {
  forget_locally(names);
  co_return co_await run(cmd::unlink(key_space(), names));
}

awaitable<bool> RedisManager::exists(std::string_view name) { return run(cmd::exists(key_space(), name)); }

awaitable<bool> RedisManager::expire(std::string_view name, std::chrono::seconds ttl) {
  return run(cmd::expire(key_space(), name, ttl));
}

awaitable<bool> RedisManager::pexpire(std::string_view name, std::chrono::milliseconds ttl) {
  return run(cmd::pexpire(key_space(), name, ttl));
}

awaitable<long long> RedisManager::ttl(std::string_view name) { return run(cmd::ttl(key_space(), name)); }
awaitable<long long> RedisManager::pttl(std::string_view name) { return run(cmd::pttl(key_space(), name)); }
awaitable<bool> RedisManager::persist(std::string_view name) { return run(cmd::persist(key_space(), name)); }

awaitable<bool> RedisManager::rename(std::string_view name, std::string_view new_name) {
  return run(cmd::rename(key_space(), name, new_name));
}

awaitable<std::string> RedisManager::type(std::string_view name) { return run(cmd::type(key_space(), name)); }

awaitable<std::optional<std::vector<std::string>>> RedisManager::scan_page(std::string_view pattern,
                                                                         std::string& cursor) {
  auto result = co_await run(cmd::scan(key_space(), cursor, pattern));
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

// Type, TTL, memory and encoding in one round trip.
awaitable<std::optional<KeyInfo>> RedisManager::key_info(std::string_view name) {
  Pipeline pipe(*this);
  auto type = pipe.add(cmd::type(key_space(), name));
  auto ttl_ms = pipe.add(cmd::pttl(key_space(), name));
  auto memory = pipe.add(cmd::memory_usage(key_space(), name));
  auto encoding = pipe.add(cmd::object_encoding(key_space(), name));
  const bool answered = co_await pipe.run();  // a statement of its own: GCC 12 and co_await inside ||
  if (!answered || type.get() == "none") co_return std::nullopt;
  co_return KeyInfo{type.get(), ttl_ms.get() == -2 ? -1 : ttl_ms.get(), memory.get(), encoding.get().value_or("")};
}

// ---- hashes

awaitable<long long> RedisManager::hset(std::string_view name, std::string_view field, std::string_view value) {
  return run(cmd::hset(key_space(), name, field, value));
}

awaitable<long long> RedisManager::hset(std::string_view name, const std::map<std::string, std::string>& mapping) {
  return run(cmd::hset(key_space(), name, mapping));
}

awaitable<OptionalString> RedisManager::hget(std::string_view name, std::string_view field) {
  return run(cmd::hget(key_space(), name, field));
}

awaitable<std::vector<OptionalString>> RedisManager::hmget(std::string_view name, std::vector<std::string> fields) {
  auto values = co_await run(cmd::hmget(key_space(), name, fields));
  values.resize(fields.size());
  co_return values;
}

awaitable<std::map<std::string, std::string>> RedisManager::hgetall(std::string_view name) {
  return run(cmd::hgetall(key_space(), name));
}

awaitable<long long> RedisManager::hdel(std::string_view name, std::vector<std::string> fields) {
  co_return co_await run(cmd::hdel(key_space(), name, fields));
}

awaitable<bool> RedisManager::hexists(std::string_view name, std::string_view field) {
  return run(cmd::hexists(key_space(), name, field));
}

awaitable<std::vector<std::string>> RedisManager::hkeys(std::string_view name) { return run(cmd::hkeys(key_space(), name)); }
awaitable<std::vector<std::string>> RedisManager::hvals(std::string_view name) { return run(cmd::hvals(key_space(), name)); }
awaitable<long long> RedisManager::hlen(std::string_view name) { return run(cmd::hlen(key_space(), name)); }

awaitable<std::optional<long long>> RedisManager::hincrby(std::string_view name, std::string_view field, long long by) {
  return run(cmd::hincrby(key_space(), name, field, by));
}

// ---- lists

awaitable<long long> RedisManager::lpush(std::string_view name, std::vector<std::string> values) {
  co_return co_await run(cmd::lpush(key_space(), name, values));
}

awaitable<long long> RedisManager::rpush(std::string_view name, std::vector<std::string> values) {
  co_return co_await run(cmd::rpush(key_space(), name, values));
}

awaitable<OptionalString> RedisManager::lpop(std::string_view name) { return run(cmd::lpop(key_space(), name)); }
awaitable<OptionalString> RedisManager::rpop(std::string_view name) { return run(cmd::rpop(key_space(), name)); }
awaitable<long long> RedisManager::llen(std::string_view name) { return run(cmd::llen(key_space(), name)); }

awaitable<OptionalString> RedisManager::lindex(std::string_view name, long long index) {
  return run(cmd::lindex(key_space(), name, index));
}

awaitable<std::vector<std::string>> RedisManager::lrange(std::string_view name, long long start, long long stop) {
  return run(cmd::lrange(key_space(), name, start, stop));
}

awaitable<bool> RedisManager::ltrim(std::string_view name, long long start, long long stop) {
  return run(cmd::ltrim(key_space(), name, start, stop));
}

// ---- sets

awaitable<long long> RedisManager::sadd(std::string_view name, std::vector<std::string> members) {
  co_return co_await run(cmd::sadd(key_space(), name, members));
}

awaitable<long long> RedisManager::srem(std::string_view name, std::vector<std::string> members) {
  co_return co_await run(cmd::srem(key_space(), name, members));
}

awaitable<std::vector<std::string>> RedisManager::smembers(std::string_view name) {
  return run(cmd::smembers(key_space(), name));
}

awaitable<bool> RedisManager::sismember(std::string_view name, std::string_view member) {
  return run(cmd::sismember(key_space(), name, member));
}

awaitable<long long> RedisManager::scard(std::string_view name) { return run(cmd::scard(key_space(), name)); }

awaitable<std::vector<std::string>> RedisManager::sunion(std::vector<std::string> names) {
  co_return co_await run(cmd::sunion(key_space(), names));
}

awaitable<std::vector<std::string>> RedisManager::sinter(std::vector<std::string> names) {
  co_return co_await run(cmd::sinter(key_space(), names));
}

awaitable<std::vector<std::string>> RedisManager::sdiff(std::vector<std::string> names) {
  co_return co_await run(cmd::sdiff(key_space(), names));
}

// ---- sorted sets

awaitable<long long> RedisManager::zadd(std::string_view name, std::vector<std::pair<double, std::string>> scored) {
  co_return co_await run(cmd::zadd(key_space(), name, scored));
}

awaitable<long long> RedisManager::zrem(std::string_view name, std::vector<std::string> members) {
  co_return co_await run(cmd::zrem(key_space(), name, members));
}

awaitable<std::vector<std::string>> RedisManager::zrange(std::string_view name, long long start, long long stop) {
  return run(cmd::zrange(key_space(), name, start, stop));
}

awaitable<std::vector<std::pair<std::string, double>>> RedisManager::zrange_withscores(std::string_view name,
                                                                                       long long start, long long stop) {
  return run(cmd::zrange_withscores(key_space(), name, start, stop));
}

awaitable<std::vector<std::string>> RedisManager::zrevrange(std::string_view name, long long start, long long stop) {
  return run(cmd::zrevrange(key_space(), name, start, stop));
}

awaitable<std::vector<std::string>> RedisManager::zrangebyscore(std::string_view name, std::string_view min,
                                                                std::string_view max) {
  return run(cmd::zrangebyscore(key_space(), name, min, max));
}

awaitable<std::optional<long long>> RedisManager::zrank(std::string_view name, std::string_view member) {
  return run(cmd::zrank(key_space(), name, member));
}

awaitable<std::optional<double>> RedisManager::zscore(std::string_view name, std::string_view member) {
  return run(cmd::zscore(key_space(), name, member));
}

awaitable<long long> RedisManager::zcard(std::string_view name) { return run(cmd::zcard(key_space(), name)); }

awaitable<std::optional<double>> RedisManager::zincrby(std::string_view name, double by, std::string_view member) {
  return run(cmd::zincrby(key_space(), name, by, member));
}

awaitable<long long> RedisManager::zremrangebyscore(std::string_view name, std::string_view min, std::string_view max) {
  return run(cmd::zremrangebyscore(key_space(), name, min, max));
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
  return run(cmd::publish(key_space(), channel, message));
}

awaitable<long long> RedisManager::publish_json(std::string_view channel, const nlohmann::json& message) {
  std::string text;
  try {
    text = message.dump();
  } catch (const nlohmann::json::exception& e) {  // strings that are not UTF-8: refused, not mangled
    spdlog::warn("redis: publish_json to '{}' not sent: {}", channel, e.what());
    co_return 0;
  }
  co_return co_await run(cmd::publish(key_space(), channel, text));
}

// ---- the server, for operators

// INFO and DBSIZE of one server (`slot`: the cluster master serving it) added to `view`; false when
// it did not answer.
awaitable<bool> RedisManager::add_server_at(ServerView& view, std::optional<std::uint16_t> slot) {
  const Strings sections{"memory", "clients", "stats", "keyspace"};  // named: no braced list inside co_await (GCC 12)
  auto info_command = cmd::info(key_space(), sections);
  auto dbsize_command = cmd::dbsize(key_space());
  if (slot) {
    info_command = std::move(info_command).to_slot(*slot);
    dbsize_command = std::move(dbsize_command).to_slot(*slot);
  }
  const auto info = co_await run(std::move(info_command));
  if (!info.succeeded()) co_return false;
  const auto dbsize = co_await run(std::move(dbsize_command));
  add_server(view, info.reply.text, dbsize);
  co_return true;
}

// Every master of the cluster in turn: each holds its own keys and serves its own clients.
awaitable<void> RedisManager::add_masters(ServerView& view) {
  auto* pool = engine_->pool.load(std::memory_order_acquire);
  if (!pool) co_return;
  for (const auto& master : pool->nodes()) {
    bool answered = false;
    if (master.first_slot) answered = co_await add_server_at(view, master.first_slot);
    if (!answered) view.unanswered.push_back(master.address);
  }
}

awaitable<ServerView> RedisManager::server_view(std::size_t sample) {
  ServerView view;
  if (on_cluster()) {
    co_await add_masters(view);
  } else {
    co_await add_server_at(view, std::nullopt);
  }
  if (view.servers == 0) co_return view;
  view.available = true;
  derive_totals(view);
  const auto listed = co_await keys("*", sample);
  const auto& sampled_keys = listed.names;
  view.sample_complete = listed.complete();
  if (view.sample_complete) view.keys_under_prefix = static_cast<long long>(sampled_keys.size());
  Pipeline types(*this);
  std::vector<Queued<std::string>> each;
  for (const auto& name : sampled_keys) each.push_back(types.type(name));
  co_await types.run();
  for (const auto& type : each)
    if (const auto found = type.get(); found != "none") ++view.types[found];
  view.sampled = sampled_keys.size();
  co_return view;
}

}  // namespace routemq::redis
