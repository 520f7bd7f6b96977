#pragma once
// A snapshot of environment variables. Config code reads this, never getenv(), so tests can pass their own.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace routemq {

class Environment {
 public:
  Environment() = default;
  explicit Environment(const std::map<std::string, std::string>& variables)
      : variables_(variables.begin(), variables.end()) {}

  // The current process environment (after load_dotenv(), so .env values are included).
  static Environment from_process();

  // The variable's value; an empty variable counts as unset (compose files often pass `VAR=` for "none").
  std::optional<std::string> get(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> variables_;
};

}  // namespace routemq
