#include "plugins/redis/protocol/reply.hpp"

#include <charconv>

namespace routemq::redis {

std::optional<std::string> Reply::as_string() const {
  if (type == Type::string || type == Type::status) return text;
  return std::nullopt;
}

std::optional<long long> Reply::as_integer() const {
  if (type == Type::integer) return integer;
  if (type != Type::string) return std::nullopt;
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string Reply::describe() const {
  switch (type) {
    case Type::nil: return "(nil)";
    case Type::status: return text;
    case Type::error: return "(error) " + text;
    case Type::integer: return std::to_string(integer);
    case Type::string: return "\"" + text + "\"";
    case Type::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements.size(); ++i) out += (i ? ", " : "") + elements[i].describe();
      return out + "]";
    }
  }
  return "?";
}

}  // namespace routemq::redis
