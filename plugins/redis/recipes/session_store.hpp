#pragma once
// Sessions on Redis: a hash per session id with a version field and a sliding expiry. Saving compares
// the version that was loaded, so a concurrent write is never silently overwritten: on a conflict the
// changes (set, erase, incr) are applied again on the newer state and the save is retried.
//
//   redis::SessionStore sessions(redis::manager(ctx), {.ttl = std::chrono::hours(1)});
//   co_await sessions.create("dev-1", {{"owner", "ops"}});         // conflict if it exists
//   auto session = co_await sessions.get("dev-1");                  // nullopt: Redis unavailable
//   if (session && session->exists()) ... session->get("owner") ...
//   co_await sessions.update("dev-1", [](redis::Session& s) { s.incr("logins"); });
//   co_await sessions.remove("dev-1");
//   auto ids = co_await sessions.list("dev-*");
//
// Stored at "session:{<id>}" under the manager's key prefix (the id is the hash tag), one hash field
// per session field beside the internal __version (and __ttl); a field of yours named like those
// (any name starting with "__") is stored escaped and comes back as you named it. When the manager
// or view encrypts values (redis.encrypt_values), every field's value is sealed, bound to its
// session and field: a field that does not open is named in unreadable() and the session is not
// saved over it.
#include <chrono>
#include <memory>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/asio.hpp"

namespace routemq::redis {

class RedisManager;

// A session's fields as loaded, plus the changes made since (re-applied when a save conflicts).
class Session {
 public:
  std::optional<std::string> get(const std::string& field) const;
  void set(const std::string& field, std::string value);
  void erase(const std::string& field);
  long long incr(const std::string& field, long long by = 1);  // the new value as seen now
  // Structured values (nested objects, arrays), stored as JSON text in one field. get_json: nullopt
  // when the field is missing or not JSON (or nested deeper than 128 levels).
  void set_json(const std::string& field, const nlohmann::json& value);
  std::optional<nlohmann::json> get_json(const std::string& field) const;
  const std::map<std::string, std::string>& fields() const { return fields_; }
  long long version() const { return version_; }  // 0: never saved
  bool exists() const { return version_ > 0; }
  bool ephemeral() const { return ephemeral_; }   // Redis was unavailable: never saved
  bool changed() const { return !changes_.empty(); }
  // Fields stored encrypted that could not be opened (another key, tampering): left out of fields().
  const std::vector<std::string>& unreadable() const { return unreadable_; }

  static Session make_ephemeral();

 private:
  friend class SessionStore;
  struct Set { std::string field; std::string value; };
  struct Erase { std::string field; };
  struct Incr { std::string field; long long by; };
  using Change = std::variant<Set, Erase, Incr>;
  void apply(const Change& change);

  std::map<std::string, std::string> fields_;
  std::vector<Change> changes_;
  std::vector<std::string> unreadable_;
  long long version_ = 0;
  bool ephemeral_ = false;
};

enum class SessionExpiry {
  sliding,  // every load and save starts the TTL again
  fixed     // the TTL runs from the session's creation, whatever is done with it
};

struct SessionOptions {
  std::chrono::milliseconds ttl = std::chrono::hours(1);  // a session's own TTL (create) overrides it
  SessionExpiry expiry = SessionExpiry::sliding;
  std::size_t max_fields = 100;                            // checked before writing
  std::size_t max_value_bytes = 65536;
  int retries = 3;                                         // conflicting saves re-applied at most this often
};

enum class SaveStatus {
  saved,
  unchanged,    // nothing to write
  too_large,    // over max_fields / max_value_bytes: nothing written
  conflict,     // still conflicting after the retries (create: the session exists)
  unavailable,  // Redis disabled or down: nothing sent
  failed,       // an error reply, a timeout or a lost connection (a timed-out save may have landed),
                // or fields that could not be decrypted (a save would lose them)
  ephemeral,    // a session loaded while Redis was unavailable is never saved
};

struct SaveResult {
  SaveStatus status = SaveStatus::unavailable;
  std::string problem;   // why, when not saved
  long long version = 0;  // the stored version after a save
  bool ok() const { return status == SaveStatus::saved || status == SaveStatus::unchanged; }
};

class SessionStore {
 public:
  explicit SessionStore(RedisManager& redis, SessionOptions options = {});

  // The session (empty, version 0, when none exists); nullopt when Redis is unavailable. Slides the expiry.
  awaitable<std::optional<Session>> get(std::string_view id);
  // Saves the changes made to `session` since it was loaded; updates its version.
  awaitable<SaveResult> save(std::string_view id, Session& session);
  // A new session with these fields; `conflict` when one exists already. `ttl`: this session's own
  // (kept with it, used by every later load and save), instead of the store's.
  awaitable<SaveResult> create(std::string_view id, const std::map<std::string, std::string>& fields,
                               std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  // The same under a new random id (128 bits, from a cryptographic source): seed 002's sessions.
  struct Created {
    std::string id;
    SaveResult result;
  };
  awaitable<Created> create(const std::map<std::string, std::string>& fields,
                            std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  // Loads, lets `change` edit, saves (re-applying the edits on a conflict).
  awaitable<SaveResult> update(std::string_view id, std::function<void(Session&)> change);
  // True when a session was deleted; false when none existed or Redis is unavailable.
  awaitable<bool> remove(std::string_view id);
  // Every session id matching the glob (SCAN, never KEYS; all of them).
  awaitable<std::vector<std::string>> list(std::string_view pattern = "*");

  const SessionOptions& options() const { return options_; }

 private:
  awaitable<SaveResult> save_attempts(const std::vector<std::string>& keys, Session& session, int retries,
                                      std::optional<std::chrono::milliseconds> own_ttl = std::nullopt);
  std::string sliding() const;  // the scripts' flag: "1" when every load and save slides the TTL
  awaitable<bool> load_into(const std::vector<std::string>& keys, Session& session);
  std::string too_large(const Session& session) const;

  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
  SessionOptions options_;
};

}  // namespace routemq::redis
