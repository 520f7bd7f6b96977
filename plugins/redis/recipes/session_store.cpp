#include "plugins/redis/recipes/session_store.hpp"

#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "core/json/bounded_json.hpp"
#include "plugins/redis/random_token.hpp"
#include "plugins/redis/redis_manager.hpp"
#include "plugins/redis/script.hpp"

namespace routemq::redis {
namespace {

constexpr std::string_view version_field = "__version";
constexpr std::string_view ttl_field = "__ttl";  // a session's own TTL, when created with one
constexpr std::string_view key_head = "session:{";

// Internal fields start with "__"; so that no field of the user's can be taken for one, every user
// field starting with "__" gets one more "_" in Redis, removed again when loaded.
std::string stored_name(const std::string& field) { return field.starts_with("__") ? "_" + field : field; }
std::optional<std::string> user_name(const std::string& stored) {
  if (stored.starts_with("___")) return stored.substr(1);
  if (stored.starts_with("__")) return std::nullopt;  // internal
  return stored;
}

// KEYS[1] hash. ARGV: ttl ms, "1" to slide. Loads every field and slides the expiry (the session's
// own TTL when it has one).
const Script& load_script() {
  static const Script script(R"lua(
local fields = redis.call('HGETALL', KEYS[1])
if #fields > 0 and ARGV[2] == '1' then
  redis.call('PEXPIRE', KEYS[1], redis.call('HGET', KEYS[1], '__ttl') or ARGV[1])
end
return fields
)lua");
  return script;
}

// KEYS[1] hash. ARGV: expected version, ttl ms, "1" to slide, then the whole new content as
// field/value pairs (a __ttl among them on creation). Replaces the hash only when nobody saved since
// we loaded. -> the new version, or -1 on conflict. A fixed expiry keeps the time left.
const Script& save_script() {
  static const Script script(R"lua(
local current = tonumber(redis.call('HGET', KEYS[1], '__version') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
local own_ttl = redis.call('HGET', KEYS[1], '__ttl')
local left = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
local version = current + 1
local args = {'__version', version}
if own_ttl then args[#args + 1] = '__ttl'; args[#args + 1] = own_ttl end
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(args))
local ttl = redis.call('HGET', KEYS[1], '__ttl') or ARGV[2]
if ARGV[3] ~= '1' and current > 0 and left > 0 then ttl = left end
redis.call('PEXPIRE', KEYS[1], ttl)
return version
)lua");
  return script;
}

long long to_integer(const std::optional<std::string>& text) {
  long long value = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

std::vector<std::string> session_keys(std::string_view id) {
  return {fmt::format("{}{}}}", key_head, id)};
}

}  // namespace

// ---- Session

std::optional<std::string> Session::get(const std::string& field) const {
  auto it = fields_.find(field);
  return it == fields_.end() ? std::nullopt : std::optional(it->second);
}

void Session::set(const std::string& field, std::string value) {
  changes_.push_back(Set{field, std::move(value)});
  apply(changes_.back());
}

void Session::erase(const std::string& field) {
  changes_.push_back(Erase{field});
  apply(changes_.back());
}

void Session::set_json(const std::string& field, const nlohmann::json& value) {
  set(field, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::optional<nlohmann::json> Session::get_json(const std::string& field) const {
  const auto text = get(field);
  if (!text) return std::nullopt;
  return parse_json(*text).value;
}

long long Session::incr(const std::string& field, long long by) {
  changes_.push_back(Incr{field, by});
  apply(changes_.back());
  return to_integer(get(field));
}

Session Session::make_ephemeral() {
  Session session;
  session.ephemeral_ = true;
  return session;
}

void Session::apply(const Change& change) {
  if (auto* set = std::get_if<Set>(&change)) fields_[set->field] = set->value;
  else if (auto* erase = std::get_if<Erase>(&change)) fields_.erase(erase->field);
  else if (auto* incr = std::get_if<Incr>(&change)) fields_[incr->field] = std::to_string(to_integer(get(incr->field)) + incr->by);
}

// ---- SessionStore

SessionStore::SessionStore(RedisManager& redis, SessionOptions options) : redis_(redis.share()), options_(options) {}

awaitable<std::optional<Session>> SessionStore::get(std::string_view id) {
  Session session;
  if (!co_await load_into(session_keys(id), session)) co_return std::nullopt;
  co_return session;
}

awaitable<SaveResult> SessionStore::save(std::string_view id, Session& session) {
  if (session.ephemeral_) co_return SaveResult{SaveStatus::ephemeral, "loaded while Redis was unavailable", 0};
  if (!session.changed()) co_return SaveResult{SaveStatus::unchanged, {}, session.version_};
  co_return co_await save_attempts(session_keys(id), session, options_.retries);
}

awaitable<SaveResult> SessionStore::create(std::string_view id, const std::map<std::string, std::string>& fields,
                                           std::optional<std::chrono::milliseconds> ttl) {
  Session session;
  for (const auto& [field, value] : fields) session.set(field, value);
  // No retries: a conflict means the session exists, which is the answer.
  co_return co_await save_attempts(session_keys(id), session, 0, ttl);
}

awaitable<SessionStore::Created> SessionStore::create(const std::map<std::string, std::string>& fields,
                                                      std::optional<std::chrono::milliseconds> ttl) {
  Created created{random_token(), {}};
  created.result = co_await create(created.id, fields, ttl);
  co_return created;
}

awaitable<SaveResult> SessionStore::update(std::string_view id, std::function<void(Session&)> change) {
  const auto keys = session_keys(id);
  Session session;
  if (!co_await load_into(keys, session)) co_return SaveResult{SaveStatus::unavailable, "Redis unavailable", 0};
  change(session);
  if (!session.changed()) co_return SaveResult{SaveStatus::unchanged, {}, session.version_};
  co_return co_await save_attempts(keys, session, options_.retries);
}

awaitable<bool> SessionStore::remove(std::string_view id) {
  co_return co_await redis_->unlink(session_keys(id)) > 0;
}

awaitable<std::vector<std::string>> SessionStore::list(std::string_view pattern) {
  auto keys = co_await redis_->keys(fmt::format("{}{}}}", key_head, pattern));
  std::vector<std::string> ids;
  ids.reserve(keys.size());
  for (auto& key : keys)  // "session:{id}" -> "id"
    if (key.size() > key_head.size() && key.back() == '}') ids.push_back(key.substr(key_head.size(), key.size() - key_head.size() - 1));
  co_return ids;
}

awaitable<bool> SessionStore::load_into(const std::vector<std::string>& keys, Session& session) {
  std::vector<std::string> args{std::to_string(options_.ttl.count()), sliding()};
  auto result = co_await redis_->eval(load_script(), keys, std::move(args));
  if (!result.succeeded() || !result.reply.is_array()) co_return false;
  session.fields_.clear();
  session.unreadable_.clear();
  session.version_ = 0;
  const auto& flat = result.reply.elements;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
    if (flat[i].text == version_field) {
      session.version_ = to_integer(flat[i + 1].text);
    } else if (auto name = user_name(flat[i].text)) {
      auto opened = redis_->open_stored(keys.front(), flat[i].text, flat[i + 1].text);
      if (opened.value) {
        session.fields_[*name] = std::move(*opened.value);
        continue;
      }
      redis_->count_cache(&CacheStats::decode_failures);
      spdlog::warn("redis: session field '{}' of '{}' could not be decrypted: {}", *name, keys.front(), opened.error);
      session.unreadable_.push_back(*name);
    }
  }
  co_return true;
}

std::string SessionStore::too_large(const Session& session) const {
  if (session.fields_.size() > options_.max_fields)
    return fmt::format("{} fields (max_fields {})", session.fields_.size(), options_.max_fields);
  for (const auto& [field, value] : session.fields_)
    if (value.size() > options_.max_value_bytes)
      return fmt::format("field '{}' has {} bytes (max_value_bytes {})", field, value.size(), options_.max_value_bytes);
  return {};
}

std::string SessionStore::sliding() const { return options_.expiry == SessionExpiry::sliding ? "1" : "0"; }

awaitable<SaveResult> SessionStore::save_attempts(const std::vector<std::string>& keys, Session& session, int retries,
                                                  std::optional<std::chrono::milliseconds> own_ttl) {
  for (int attempt = 0; attempt <= retries; ++attempt) {
    if (auto problem = too_large(session); !problem.empty()) co_return SaveResult{SaveStatus::too_large, problem, session.version_};
    if (!session.unreadable_.empty())  // a save replaces the whole hash: it would drop them
      co_return SaveResult{SaveStatus::failed,
                           fmt::format("not saved: field(s) {} could not be decrypted", fmt::join(session.unreadable_, ", ")),
                           session.version_};
    std::vector<std::string> args{std::to_string(session.version_), std::to_string(options_.ttl.count()), sliding()};
    if (own_ttl) args.insert(args.end(), {std::string(ttl_field), std::to_string(own_ttl->count())});
    for (const auto& [field, value] : session.fields_) {
      auto sealed = redis_->seal_stored(keys.front(), stored_name(field), value);
      if (!sealed.bytes) co_return SaveResult{SaveStatus::failed, sealed.error, session.version_};
      args.insert(args.end(), {stored_name(field), std::move(*sealed.bytes)});
    }
    auto result = co_await redis_->eval(save_script(), keys, std::move(args));
    if (!result.succeeded())
      co_return SaveResult{result.unavailable() ? SaveStatus::unavailable : SaveStatus::failed, result.error_text(),
                           session.version_};
    if (result.reply.integer > 0) {
      session.version_ = result.reply.integer;
      co_return SaveResult{SaveStatus::saved, {}, session.version_};
    }
    if (attempt == retries) break;
    // Somebody saved first: take their state and apply our changes on top of it.
    Session fresh;
    if (!co_await load_into(keys, fresh)) co_return SaveResult{SaveStatus::unavailable, "Redis unavailable", session.version_};
    for (const auto& change : session.changes_) fresh.apply(change);
    session.fields_ = std::move(fresh.fields_);
    session.unreadable_ = std::move(fresh.unreadable_);
    session.version_ = fresh.version_;
  }
  co_return SaveResult{SaveStatus::conflict,
                       fmt::format("still conflicting after {} retries; the changes are not saved", retries),
                       session.version_};
}

}  // namespace routemq::redis
