#include "scaffold/service_name.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace routemq::scaffold {
namespace {

// The generated code opens `namespace <identifier>`: these would not compile, or would mean
// something else.
constexpr std::array reserved_identifiers = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
    "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval", "constexpr",
    "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete",
    "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for",
    "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
    "requires", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct",
    "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
    "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
    "std", "routemq"};

bool allowed(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

// The name as an error message can show it: bytes outside printable ASCII as \xNN (a NUL would end
// the message, and a terminal control byte would act).
std::string shown(std::string_view text) {
  std::string out;
  for (unsigned char c : text) out += c >= 0x20 && c < 0x7f ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  return out;
}

}  // namespace

ServiceName parse_service_name(std::string_view name) {
  constexpr std::size_t max_length = 64;
  if (name.empty()) throw InvalidName("the service needs a name, e.g. `routemq new greenhouse`");
  if (name.size() > max_length)
    throw InvalidName(fmt::format("'{}...' is {} characters long; at most {}", shown(name.substr(0, 16)), name.size(), max_length));
  if (name.front() < 'a' || name.front() > 'z')
    throw InvalidName(fmt::format("'{}' must start with a lower-case letter", shown(name)));
  if (auto bad = std::find_if_not(name.begin(), name.end(), allowed); bad != name.end())
    throw InvalidName(fmt::format("'{}' has '{}' at {}: use lower-case letters, digits, '-' and '_' (it names a "
                                  "directory, a binary, a C++ namespace and an image)",
                                  shown(name), shown(std::string_view(&*bad, 1)), bad - name.begin() + 1));
  ServiceName result{std::string(name), std::string(name), {}};
  std::replace(result.identifier.begin(), result.identifier.end(), '-', '_');
  if (std::find(reserved_identifiers.begin(), reserved_identifiers.end(), result.identifier) != reserved_identifiers.end())
    throw InvalidName(fmt::format("'{}' cannot name the service's C++ namespace; choose another name", name));
  for (char c : result.identifier) result.upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return result;
}

}  // namespace routemq::scaffold
