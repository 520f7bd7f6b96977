#include "plugins/redis/recipes/session_store.hpp"

#include <charconv>
#include <iterator>

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
constexpr std::string_view created_field = "__created_at";  // ms since the epoch, by the app's clock
constexpr std::string_view user_id_field = "__user_id";
// A random token given at creation: tells this session from one removed and created again under the
// same id (which starts at version 1 again, maybe within the same millisecond).
constexpr std::string_view incarnation_field = "__incarnation";
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

// KEYS[1] hash. ARGV: ttl ms, "1" to extend. Loads every field and, when asked, starts the expiry
// again (the session's own TTL when it has one).
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

// KEYS[1] hash. ARGV: [1] the version loaded, [2] the __incarnation loaded ('' for none), [3] the
// store's ttl ms, [4] "1" to extend, [5] now in ms, [6] a new session's __incarnation, [7] n, then n
// internal field/value pairs for a new session (__ttl, __user_id), then the user's whole new content
// as field/value pairs. Replaces the hash only when nobody saved since we loaded -> the new version;
// -1 on a conflict; -2 when the session we loaded is gone (removed or expired, perhaps created again
// since: another __incarnation), so that a save never brings back a part of it. A new session records
// __created_at and __incarnation; a later save keeps the internal fields as they are. Without
// extending, the time left is kept.
const Script& save_script() {
  static const Script script(R"lua(
local key = KEYS[1]
local expected = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', key, '__version') or '0')
if expected > 0 and (current == 0 or (redis.call('HGET', key, '__incarnation') or '') ~= ARGV[2]) then
  return -2
end
if current ~= expected then return -1 end
local args = {'__version', current + 1}
local first = 8 + 2 * tonumber(ARGV[7])
if current == 0 then
  args[#args + 1] = '__created_at'; args[#args + 1] = ARGV[5]
  args[#args + 1] = '__incarnation'; args[#args + 1] = ARGV[6]
  for i = 8, first - 1 do args[#args + 1] = ARGV[i] end
else
  local names = {'__created_at', '__incarnation', '__user_id', '__ttl'}
  local values = redis.call('HMGET', key, unpack(names))
  for i, name in ipairs(names) do
    if values[i] then args[#args + 1] = name; args[#args + 1] = values[i] end
  end
end
for i = first, #ARGV do args[#args + 1] = ARGV[i] end
local left = redis.call('PTTL', key)
redis.call('DEL', key)
redis.call('HSET', key, unpack(args))
local ttl = redis.call('HGET', key, '__ttl') or ARGV[3]
if ARGV[4] ~= '1' and current > 0 and left > 0 then ttl = left end
redis.call('PEXPIRE', key, ttl)
return current + 1
)lua");
  return script;
}

// KEYS[1] hash. ARGV: the store's ttl ms, a ttl ms for this once or ''. -> 1 when it exists.
const Script& touch_script() {
  static const Script script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ttl = ARGV[2]
if ttl == '' then ttl = redis.call('HGET', KEYS[1], '__ttl') or ARGV[1] end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
)lua");
  return script;
}

constexpr long long save_conflict = -1;
constexpr long long save_gone = -2;

long long to_integer(const std::optional<std::string>& text) {
  long long value = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

std::vector<std::string> session_keys(std::string_view id) {
  return {fmt::format("{}{}}}", key_head, id)};
}

std::string now_stamp() {
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return std::to_string(now.time_since_epoch().count());
}

// The save script's arguments (see save_script), every value sealed when the manager encrypts.
struct SaveArguments {
  std::vector<std::string> args;
  std::string problem;  // a value that could not be sealed
};

SaveArguments save_arguments(const RedisManager& redis, const std::string& key, const Session& session,
                             const std::string& incarnation, const SessionOptions& options, bool extend,
                             std::vector<std::string> created_with) {
  SaveArguments out;
  out.args = {std::to_string(session.version()),
              incarnation,
              std::to_string(options.ttl.count()),
              extend ? "1" : "0",
              now_stamp(),
              session.exists() ? std::string() : random_token(),  // used only when it creates the session
              std::to_string(created_with.size() / 2)};
  std::move(created_with.begin(), created_with.end(), std::back_inserter(out.args));
  for (const auto& [field, value] : session.fields()) {
    auto sealed = redis.seal_stored(key, stored_name(field), value);
    if (!sealed.bytes) {
      out.problem = sealed.error;
      return out;
    }
    out.args.insert(out.args.end(), {stored_name(field), std::move(*sealed.bytes)});
  }
  return out;
}

SaveResult not_saved(SaveStatus status, std::string problem, long long version) {
  return SaveResult{status, std::move(problem), version};
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

void Session::clear() {
  changes_.push_back(Clear{});
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

std::optional<std::chrono::system_clock::time_point> Session::created_at() const {
  long long ms = 0;
  const auto* end = created_stamp_.data() + created_stamp_.size();
  const auto parsed = std::from_chars(created_stamp_.data(), end, ms);
  if (created_stamp_.empty() || parsed.ec != std::errc{} || parsed.ptr != end) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
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
  else if (std::holds_alternative<Clear>(change)) {
    fields_.clear();
    unreadable_.clear();  // dropped on purpose: a save no longer loses them
  }
}

// ---- SessionStore

SessionStore::SessionStore(RedisManager& redis, SessionOptions options) : redis_(redis.share()), options_(options) {}

awaitable<SessionRead> SessionStore::get(std::string_view id, SessionCall call) {
  SessionRead read;
  read.status = co_await load_into(session_keys(id), read.session, call.extend_ttl.value_or(false));
  if (read.unavailable()) read.session = Session::make_ephemeral();
  co_return read;
}

awaitable<SaveResult> SessionStore::save(std::string_view id, Session& session, SessionCall call) {
  if (session.ephemeral_) co_return not_saved(SaveStatus::ephemeral, "loaded while Redis was unavailable", 0);
  if (!session.changed()) co_return SaveResult{SaveStatus::unchanged, {}, session.version_};
  co_return co_await save_attempts(session_keys(id), session, options_.retries, extends(call));
}

awaitable<SaveResult> SessionStore::create(std::string_view id, const std::map<std::string, std::string>& fields,
                                           NewSession settings) {
  Session session;
  for (const auto& [field, value] : fields) session.set(field, value);
  // No retries: a conflict means the session exists, which is the answer.
  co_return co_await save_attempts(session_keys(id), session, 0, true, settings);
}

awaitable<SessionStore::Created> SessionStore::create(const std::map<std::string, std::string>& fields,
                                                      NewSession settings) {
  Created created{random_token(), {}};
  created.result = co_await create(created.id, fields, std::move(settings));
  co_return created;
}

awaitable<SaveResult> SessionStore::update(std::string_view id, std::function<void(Session&)> change,
                                           SessionCall call) {
  const auto keys = session_keys(id);
  Session session;
  const auto status = co_await load_into(keys, session, false);
  if (status == SessionRead::Status::unavailable) co_return not_saved(SaveStatus::unavailable, "Redis unavailable", 0);
  // An update changes a session that exists: creating one is create()'s (or a save of a missing one).
  if (status == SessionRead::Status::missing)
    co_return not_saved(SaveStatus::missing, fmt::format("no session '{}'", id), 0);
  change(session);
  if (!session.changed()) co_return SaveResult{SaveStatus::unchanged, {}, session.version_};
  co_return co_await save_attempts(keys, session, options_.retries, extends(call));
}

awaitable<SaveResult> SessionStore::replace(std::string_view id, const std::map<std::string, std::string>& fields,
                                            SessionCall call) {
  // Kept as changes (clear, then set each), so a conflicting save replaces the newer state the same way.
  // Named, not built inside the co_await (GCC 12).
  std::function<void(Session&)> replace_all = [&fields](Session& session) {
    session.clear();
    for (const auto& [field, value] : fields) session.set(field, value);
  };
  co_return co_await update(id, std::move(replace_all), call);
}

awaitable<bool> SessionStore::touch(std::string_view id, std::optional<std::chrono::milliseconds> ttl) {
  std::vector<std::string> args{std::to_string(options_.ttl.count()), ttl ? std::to_string(ttl->count()) : ""};
  auto result = co_await redis_->eval(touch_script(), session_keys(id), std::move(args));
  co_return result.succeeded() && result.reply.integer == 1;
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

awaitable<SessionRead::Status> SessionStore::load_into(const std::vector<std::string>& keys, Session& session,
                                                       bool extend) {
  std::vector<std::string> args{std::to_string(options_.ttl.count()), extend ? "1" : "0"};
  auto result = co_await redis_->eval(load_script(), keys, std::move(args));
  if (!result.succeeded() || !result.reply.is_array()) co_return SessionRead::Status::unavailable;
  session.fields_.clear();
  session.unreadable_.clear();
  session.created_stamp_.clear();
  session.incarnation_.clear();
  session.user_id_.reset();
  session.version_ = 0;
  const auto& flat = result.reply.elements;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
    const auto& stored = flat[i].text;
    if (stored == version_field) {
      session.version_ = to_integer(flat[i + 1].text);
    } else if (stored == created_field) {
      session.created_stamp_ = flat[i + 1].text;
    } else if (stored == incarnation_field) {
      session.incarnation_ = flat[i + 1].text;
    } else if (stored == user_id_field) {
      // Not saved by us (a save keeps the stored bytes), so one that does not open only goes unread.
      session.user_id_ = open_field(keys.front(), stored, flat[i + 1].text);
    } else if (auto name = user_name(stored)) {
      if (auto value = open_field(keys.front(), stored, flat[i + 1].text)) session.fields_[*name] = std::move(*value);
      else session.unreadable_.push_back(*name);
    }
  }
  co_return session.exists() ? SessionRead::Status::found : SessionRead::Status::missing;
}

std::optional<std::string> SessionStore::open_field(const std::string& key, const std::string& stored,
                                                    std::string bytes) const {
  auto opened = redis_->open_stored(key, stored, std::move(bytes));
  if (opened.value) return std::move(opened.value);
  redis_->count_cache(&CacheStats::decode_failures);
  spdlog::warn("redis: session field '{}' of '{}' could not be decrypted: {}", stored, key, opened.error);
  return std::nullopt;
}

std::string SessionStore::too_large(const Session& session) const {
  if (session.fields_.size() > options_.max_fields)
    return fmt::format("{} fields (max_fields {})", session.fields_.size(), options_.max_fields);
  for (const auto& [field, value] : session.fields_)
    if (value.size() > options_.max_value_bytes)
      return fmt::format("field '{}' has {} bytes (max_value_bytes {})", field, value.size(), options_.max_value_bytes);
  return {};
}

bool SessionStore::extends(SessionCall call) const {
  return call.extend_ttl.value_or(options_.expiry == SessionExpiry::sliding);
}

std::vector<std::string> SessionStore::created_with(const std::string& key, const NewSession& settings,
                                                    std::string& problem) const {
  std::vector<std::string> pairs;
  if (settings.ttl) pairs.insert(pairs.end(), {std::string(ttl_field), std::to_string(settings.ttl->count())});
  if (!settings.user_id.empty()) {
    auto sealed = redis_->seal_stored(key, user_id_field, settings.user_id);
    if (!sealed.bytes) problem = sealed.error;
    else pairs.insert(pairs.end(), {std::string(user_id_field), std::move(*sealed.bytes)});
  }
  return pairs;
}

awaitable<SaveResult> SessionStore::save_attempts(const std::vector<std::string>& keys, Session& session, int retries,
                                                  bool extend, const NewSession& settings) {
  std::string problem;
  const auto new_session_fields = created_with(keys.front(), settings, problem);
  if (!problem.empty()) co_return not_saved(SaveStatus::failed, problem, session.version_);
  for (int attempt = 0; attempt <= retries; ++attempt) {
    if (auto too_big = too_large(session); !too_big.empty())
      co_return not_saved(SaveStatus::too_large, too_big, session.version_);
    if (!session.unreadable_.empty())  // a save replaces the whole hash: it would drop them
      co_return not_saved(SaveStatus::failed,
                          fmt::format("not saved: field(s) {} could not be decrypted", fmt::join(session.unreadable_, ", ")),
                          session.version_);
    auto arguments = save_arguments(*redis_, keys.front(), session, session.incarnation_, options_, extend,
                                    new_session_fields);
    if (!arguments.problem.empty()) co_return not_saved(SaveStatus::failed, arguments.problem, session.version_);
    auto result = co_await redis_->eval(save_script(), keys, std::move(arguments.args));
    if (!result.succeeded())
      co_return not_saved(result.unavailable() ? SaveStatus::unavailable : SaveStatus::failed, result.error_text(),
                          session.version_);
    if (result.reply.integer > 0) {
      session.version_ = result.reply.integer;
      co_return SaveResult{SaveStatus::saved, {}, session.version_};
    }
    if (result.reply.integer == save_gone) co_return gone(session);
    if (attempt == retries) break;
    // Somebody saved first: take their state and apply our changes on top of it.
    Session fresh;
    const auto status = co_await load_into(keys, fresh, false);
    if (status == SessionRead::Status::unavailable)
      co_return not_saved(SaveStatus::unavailable, "Redis unavailable", session.version_);
    // Removed since the conflicting save (or made again): our changes alone would be a partial session.
    if (session.exists() && (!fresh.exists() || fresh.incarnation_ != session.incarnation_)) co_return gone(session);
    for (const auto& change : session.changes_) fresh.apply(change);
    session.fields_ = std::move(fresh.fields_);
    session.unreadable_ = std::move(fresh.unreadable_);
    session.created_stamp_ = std::move(fresh.created_stamp_);
    session.incarnation_ = std::move(fresh.incarnation_);
    session.user_id_ = std::move(fresh.user_id_);
    session.version_ = fresh.version_;
  }
  co_return not_saved(SaveStatus::conflict,
                      fmt::format("still conflicting after {} retries; the changes are not saved", retries),
                      session.version_);
}

SaveResult SessionStore::gone(const Session& session) {
  return not_saved(SaveStatus::missing,
                   "the session was removed (or expired) since it was loaded: not saved, so as not to bring back a "
                   "part of it",
                   session.version_);
}

}  // namespace routemq::redis
