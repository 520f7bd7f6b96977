#pragma once
// session: a Redis hash per key (fields plus a version), loaded into the context before the handler
// and saved after it, with a sliding expiry.
//
//   - session:
//       key: "{device_id}"
//       ttl: 3600              # seconds; every load and save slides it
//       max_fields: 100        # (at most 4000) checked before writing: an oversized session is not saved
//       max_value_bytes: 65536
//       retries: 3             # a conflicting concurrent save: reload, re-apply the changes, try again
//
//   auto session = *ctx.get<std::shared_ptr<middleware::Session>>("session");
//   session->incr("commands.reboot");        // re-applied on a conflict: concurrent increments all count
//   session->set("last_command", "reboot");
//
// Saving compares the version it loaded, so a concurrent write is never silently overwritten: the
// changes (set, erase, incr) are applied again on the newer state. With Redis unavailable the session
// is empty and ephemeral (never saved), and says so.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/handling/middleware_registry.hpp"

namespace routemq::middleware {

class Session {
 public:
  std::optional<std::string> get(const std::string& field) const;
  void set(const std::string& field, std::string value);
  void erase(const std::string& field);
  long long incr(const std::string& field, long long by = 1);  // the new value as seen now
  const std::map<std::string, std::string>& fields() const { return fields_; }
  long long version() const { return version_; }
  bool ephemeral() const { return ephemeral_; }
  bool changed() const { return !changes_.empty(); }

 private:
  friend class SessionStore;
  struct Set { std::string field; std::string value; };
  struct Erase { std::string field; };
  struct Incr { std::string field; long long by; };
  using Change = std::variant<Set, Erase, Incr>;
  void apply(const Change& change);

  std::map<std::string, std::string> fields_;
  std::vector<Change> changes_;
  long long version_ = 0;
  bool ephemeral_ = false;
};

void register_session(MiddlewareRegistry& registry);

}  // namespace routemq::middleware
