#include "middleware/session.hpp"

#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"
#include "middleware/decision_counters.hpp"
#include "middleware/key_template.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::middleware {
namespace {

constexpr const char* version_field = "__version";

// KEYS[1] hash. ARGV: ttl ms. Loads every field and slides the expiry.
const redis::Script& load_script() {
  static const redis::Script script(R"lua(
local fields = redis.call('HGETALL', KEYS[1])
if #fields > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return fields
)lua");
  return script;
}

// KEYS[1] hash. ARGV: expected version, ttl ms, then the whole new content as field/value pairs.
// Replaces the hash only when nobody saved since we loaded. -> the new version, or -1 on conflict.
const redis::Script& save_script() {
  static const redis::Script script(R"lua(
local current = tonumber(redis.call('HGET', KEYS[1], '__version') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
redis.call('DEL', KEYS[1])
local version = current + 1
local args = {'__version', version}
for i = 3, #ARGV do args[#args + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(args))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return version
)lua");
  return script;
}

long long to_integer(const std::optional<std::string>& text) {
  long long value = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

}  // namespace

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

long long Session::incr(const std::string& field, long long by) {
  changes_.push_back(Incr{field, by});
  apply(changes_.back());
  return to_integer(get(field));
}

void Session::apply(const Change& change) {
  if (auto* set = std::get_if<Set>(&change)) fields_[set->field] = set->value;
  else if (auto* erase = std::get_if<Erase>(&change)) fields_.erase(erase->field);
  else if (auto* incr = std::get_if<Incr>(&change)) fields_[incr->field] = std::to_string(to_integer(get(incr->field)) + incr->by);
}

struct SessionOptions {
  KeyTemplate key = KeyTemplate::parse("{topic}");
  long long ttl_ms = 3600 * 1000;
  std::size_t max_fields = 100;
  std::size_t max_value_bytes = 65536;
  int retries = 3;
};

// Loads and saves sessions for one middleware instance.
class SessionStore {
 public:
  explicit SessionStore(SessionOptions options) : options_(std::move(options)) {}

  awaitable<void> handle(Context& ctx, Next next) {
    const auto key = options_.key.render(ctx);
    if (!key.ok()) {
      decision_counters().count("session", "key_error");
      throw InvalidPayload("session: " + key.error);
    }
    auto& redis = ctx.redis();
    std::vector<std::string> keys{"session:{" + key.key + "}"};
    auto session = std::make_shared<Session>();
    const bool loaded = co_await load(redis, keys, *session);
    if (!loaded) {
      session->ephemeral_ = true;
      decision_counters().count("session", "unavailable");
    } else {
      decision_counters().count("session", "loaded");
    }
    ctx.set("session", session);
    co_await next();
    if (session->ephemeral_ || !session->changed()) co_return;
    co_await save(redis, keys, *session, key.key);
  }

 private:
  awaitable<bool> load(redis::RedisManager& redis, const std::vector<std::string>& keys, Session& session) {
    std::vector<std::string> args{std::to_string(options_.ttl_ms)};
    auto result = co_await redis.eval(load_script(), keys, std::move(args));
    if (!result.succeeded() || !result.reply.is_array()) co_return false;
    session.fields_.clear();
    const auto& flat = result.reply.elements;
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2) session.fields_[flat[i].text] = flat[i + 1].text;
    session.version_ = to_integer(session.get(version_field));
    session.fields_.erase(version_field);
    co_return true;
  }

  std::string too_large(const Session& session) const {
    if (session.fields_.size() > options_.max_fields)
      return fmt::format("{} fields (max_fields {})", session.fields_.size(), options_.max_fields);
    for (const auto& [field, value] : session.fields_)
      if (value.size() > options_.max_value_bytes)
        return fmt::format("field '{}' has {} bytes (max_value_bytes {})", field, value.size(), options_.max_value_bytes);
    return {};
  }

  awaitable<void> save(redis::RedisManager& redis, const std::vector<std::string>& keys, Session& session,
                       const std::string& name) {
    for (int attempt = 0; attempt <= options_.retries; ++attempt) {
      if (auto problem = too_large(session); !problem.empty()) {
        decision_counters().count("session", "too_large");
        spdlog::warn("session '{}' not saved: {}", name, problem);
        co_return;
      }
      std::vector<std::string> args{std::to_string(session.version_), std::to_string(options_.ttl_ms)};
      for (const auto& [field, value] : session.fields_) args.insert(args.end(), {field, value});
      auto result = co_await redis.eval(save_script(), keys, std::move(args));
      if (!result.succeeded()) {
        decision_counters().count("session", "save_failed");
        spdlog::warn("session '{}' not saved: {}", name, result.error_text());
        co_return;
      }
      if (result.reply.integer > 0) {
        session.version_ = result.reply.integer;
        decision_counters().count("session", "saved");
        co_return;
      }
      // Somebody saved first: take their state and apply our changes on top of it.
      decision_counters().count("session", "conflict");
      Session fresh;
      if (!co_await load(redis, keys, fresh)) co_return;
      for (const auto& change : session.changes_) fresh.apply(change);
      session.fields_ = std::move(fresh.fields_);
      session.version_ = fresh.version_;
    }
    decision_counters().count("session", "conflict_gave_up");
    spdlog::error("session '{}': still conflicting after {} retries; this message's changes are not saved", name,
                  options_.retries);
  }

  SessionOptions options_;
};

namespace {

SessionOptions read_options(const MiddlewareSetup& setup) {
  SectionReader r(setup.options, setup.environment);
  SessionOptions o;
  o.key = KeyTemplate::from_option(setup.options, "key", r.string("key", "{topic}", {.non_empty = true}));
  o.ttl_ms = static_cast<long long>(r.number("ttl", 3600, {.min = 0.01, .max = 86400.0 * 365}) * 1000);
  o.max_fields = static_cast<std::size_t>(r.integer("max_fields", 100, {.min = 1, .max = 4000}));
  o.max_value_bytes = static_cast<std::size_t>(r.integer("max_value_bytes", 65536, {.min = 1, .max = 512LL << 20}));
  o.retries = static_cast<int>(r.integer("retries", 3, {.min = 0, .max = 100}));
  r.finish();
  return o;
}

}  // namespace

void register_session(MiddlewareRegistry& registry) {
  registry.add("session", [](const MiddlewareSetup& setup) {
    return make_middleware("session", SessionStore(read_options(setup)));
  });
}

}  // namespace routemq::middleware
