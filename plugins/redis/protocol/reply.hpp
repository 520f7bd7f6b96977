#pragma once
// One Redis reply (RESP2), as a plain value: nil, status (+OK), error (-ERR ...), integer, bulk string
// or array of replies.
#include <optional>
#include <string>
#include <vector>

namespace routemq::redis {

struct Reply {
  enum class Type { nil, status, error, integer, string, array };

  Type type = Type::nil;
  std::string text;          // status, error or string
  long long integer = 0;     // integer
  std::vector<Reply> elements;  // array

  static Reply nil() { return {}; }
  static Reply status(std::string text) { return {Type::status, std::move(text), 0, {}}; }
  static Reply error(std::string text) { return {Type::error, std::move(text), 0, {}}; }
  static Reply number(long long value) { return {Type::integer, {}, value, {}}; }
  static Reply string(std::string text) { return {Type::string, std::move(text), 0, {}}; }
  static Reply array(std::vector<Reply> elements) { return {Type::array, {}, 0, std::move(elements)}; }

  bool is_nil() const { return type == Type::nil; }
  bool is_error() const { return type == Type::error; }
  bool is_array() const { return type == Type::array; }
  // The text of a string or status reply; nullopt for anything else.
  std::optional<std::string> as_string() const;
  // An integer reply, or a string holding an integer; nullopt otherwise.
  std::optional<long long> as_integer() const;
  // For logs and test messages: `"abc"`, `(nil)`, `(error) ERR x`, `[1, "a"]`.
  std::string describe() const;

  friend bool operator==(const Reply&, const Reply&) = default;
};

}  // namespace routemq::redis
