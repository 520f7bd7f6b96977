#pragma once
// Sessions on Redis: a hash per session id with a version field and an expiry. Saving compares the
// version that was loaded, so a concurrent write is never silently overwritten: on a conflict the
// changes (set, erase, incr, clear) are applied again on the newer state and the save is retried. A
// session removed (or expired) since it was loaded is never brought back by a save: `missing`.
//
//   redis::SessionStore sessions(redis::manager(ctx), {.ttl = std::chrono::hours(1)});
//   const std::map<std::string, std::string> fields{{"owner", "ops"}};  // (GCC 12: no braced map in co_await)
//   co_await sessions.create("dev-1", fields, {.user_id = "u-42"});     // conflict if it exists
//   auto read = co_await sessions.get("dev-1");          // found, missing or unavailable
//   if (read.found()) ... read.session.get("owner") ... read.session.created_at() ...
//   co_await sessions.update("dev-1", [](redis::Session& s) { s.incr("logins"); });  // merges
//   co_await sessions.replace("dev-1", fields, {.extend_ttl = true});   // seed 002's update: exactly these
//   co_await sessions.touch("dev-1");                    // restarts the expiry, nothing loaded
//   co_await sessions.remove("dev-1");
//   auto ids = co_await sessions.list("dev-*");
//
// Expiry: a session lives `ttl` (the store's, or its own given at create) after the last call that
// extended it. get() extends only when asked ({.extend_ttl = true}) and touch() always; a write
// extends under SessionExpiry::sliding (the default) and keeps the time left under `fixed`, unless
// the call says otherwise (seed 002's extend_ttl).
//
// Stored at "session:{<id>}" under the manager's key prefix (the id is the hash tag), one hash field
// per session field beside the internal __version, __created_at, __incarnation, __user_id and __ttl;
// a field of yours named like those (any name starting with "__") is stored escaped and comes back as
// you named it. When the manager or view encrypts values (redis.encrypt_values), every field's value
// (and the user id) is sealed, bound to its session and field: a field that does not open is named in
// unreadable() and the session is not saved over it.
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
  void clear();                                                // every field of yours (not created_at, user_id)
  long long incr(const std::string& field, long long by = 1);  // the new value as seen now
  // Structured values (nested objects, arrays), stored as JSON text in one field. get_json: nullopt
  // when the field is missing or not JSON (or nested deeper than 128 levels).
  void set_json(const std::string& field, const nlohmann::json& value);
  std::optional<nlohmann::json> get_json(const std::string& field) const;
  const std::map<std::string, std::string>& fields() const { return fields_; }
  // When it was first saved (create, or the first save of a new one), by this app's clock, to the
  // millisecond (seed 001's created_at); nullopt before that, or for a session stored by a version
  // that did not record it.
  std::optional<std::chrono::system_clock::time_point> created_at() const;
  // The user it was created for (create's user_id: seed 001's create_session(user_id, data)).
  const std::optional<std::string>& user_id() const { return user_id_; }
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
  struct Clear {};
  using Change = std::variant<Set, Erase, Incr, Clear>;
  void apply(const Change& change);

  std::map<std::string, std::string> fields_;
  std::vector<Change> changes_;
  std::vector<std::string> unreadable_;
  std::string created_stamp_;  // __created_at as stored
  std::string incarnation_;    // which session of this id was loaded: a save never writes over another
  std::optional<std::string> user_id_;
  long long version_ = 0;
  bool ephemeral_ = false;
};

// What get() found. The session is always there to read or fill in: as stored when found, empty
// (version 0) when missing (saving it creates the session), ephemeral (never saved) when unavailable.
struct SessionRead {
  enum class Status { found, missing, unavailable };
  Status status = Status::unavailable;
  Session session;
  bool found() const { return status == Status::found; }
  bool missing() const { return status == Status::missing; }  // none stored: seed 001/002's None
  bool unavailable() const { return status == Status::unavailable; }
};

enum class SessionExpiry {
  sliding,  // every save starts the TTL again (and the session middleware's every load)
  fixed     // the TTL runs from the session's creation, unless a call extends it
};

struct SessionOptions {
  std::chrono::milliseconds ttl = std::chrono::hours(1);  // a session's own TTL (create) overrides it
  SessionExpiry expiry = SessionExpiry::sliding;
  std::size_t max_fields = 100;                            // checked before writing
  std::size_t max_value_bytes = 65536;
  int retries = 3;                                         // conflicting saves re-applied at most this often
};

// Per call, seed 002's extend_ttl: true starts the session's TTL again, false leaves the time it has
// left. Unset: get() leaves it, a write follows SessionOptions::expiry.
struct SessionCall {
  std::optional<bool> extend_ttl = std::nullopt;
};

// A new session's own settings.
struct NewSession {
  // Its own TTL, kept with it and used by every later load and save, instead of the store's.
  std::optional<std::chrono::milliseconds> ttl = std::nullopt;
  // Recorded as user_id() (seed 001); empty: none. A view, as the id is, of a string that outlives the
  // call: the struct stays trivially destructible, which GCC 12 needs of a braced argument in co_await
  // (a std::string member here was destroyed twice).
  std::string_view user_id = {};
};

enum class SaveStatus {
  saved,
  unchanged,    // nothing to write
  too_large,    // over max_fields / max_value_bytes: nothing written
  conflict,     // still conflicting after the retries (create: the session exists)
  missing,      // no such session (update, replace), or removed or expired since it was loaded (save):
                // nothing written, never a partial session brought back
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

  // The stored session, or that there is none, or that Redis is unavailable (see SessionRead).
  // Leaves the expiry alone unless the call extends it.
  awaitable<SessionRead> get(std::string_view id, SessionCall call = {});
  // Saves the changes made to `session` since it was loaded (a missing one: creates it); updates its
  // version. `missing` when the session it was loaded from has been removed (or expired) since.
  awaitable<SaveResult> save(std::string_view id, Session& session, SessionCall call = {});
  // A new session with these fields; `conflict` when one exists already.
  awaitable<SaveResult> create(std::string_view id, const std::map<std::string, std::string>& fields,
                               NewSession settings = {});
  // The same under a new random id (128 bits, from a cryptographic source): seed 002's create_session.
  struct Created {
    std::string id;
    SaveResult result;
  };
  awaitable<Created> create(const std::map<std::string, std::string>& fields, NewSession settings = {});
  // Loads an existing session, lets `change` edit it, saves (re-applying the edits on a conflict):
  // a merge, the fields it does not touch stay. `missing` when there is none.
  awaitable<SaveResult> update(std::string_view id, std::function<void(Session&)> change, SessionCall call = {});
  // Seed 002's update_session(id, data, extend_ttl): the session's fields become exactly these
  // (created_at, user_id and its own TTL stay). `missing` when there is none.
  awaitable<SaveResult> replace(std::string_view id, const std::map<std::string, std::string>& fields,
                                SessionCall call = {});
  // Starts the session's expiry again: `ttl` for this once, else its own TTL or the store's. True when
  // the session exists; false when none does or Redis is unavailable.
  awaitable<bool> touch(std::string_view id, std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  // True when a session was deleted; false when none existed or Redis is unavailable.
  awaitable<bool> remove(std::string_view id);
  // Every session id matching the glob (SCAN, never KEYS; all of them).
  awaitable<std::vector<std::string>> list(std::string_view pattern = "*");

  const SessionOptions& options() const { return options_; }

 private:
  awaitable<SaveResult> save_attempts(const std::vector<std::string>& keys, Session& session, int retries,
                                      bool extend, const NewSession& settings = {});
  static SaveResult gone(const Session& session);  // `missing`: removed since it was loaded
  // The internal fields a new session starts with (its own TTL, its user id sealed like a field).
  std::vector<std::string> created_with(const std::string& key, const NewSession& settings, std::string& problem) const;
  bool extends(SessionCall call) const;  // a write's choice: the call's, else the store's expiry
  awaitable<SessionRead::Status> load_into(const std::vector<std::string>& keys, Session& session, bool extend);
  // A stored value opened (decrypted when the manager encrypts); nullopt, counted and logged, when not.
  std::optional<std::string> open_field(const std::string& key, const std::string& stored, std::string bytes) const;
  std::string too_large(const Session& session) const;

  std::shared_ptr<RedisManager> redis_;  // a handle: keeps the manager (or view) alive as long as this
  SessionOptions options_;
};

}  // namespace routemq::redis
