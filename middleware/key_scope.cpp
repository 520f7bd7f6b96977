#include "middleware/key_scope.hpp"

namespace routemq::middleware {

KeyScope KeyScope::read(SectionReader& options) {
  KeyScope scope;
  scope.all_routes_ = options.string("key_scope", "route", {.one_of = {"route", "all_routes"}}) == "all_routes";
  return scope;
}

std::string KeyScope::apply(const Context& ctx, std::string_view key) const {
  if (all_routes_) return std::string(key);
  std::string scoped;
  scoped.reserve(ctx.route_name().size() + 1 + key.size());
  for (const char c : ctx.route_name()) {
    if (c == ':' || c == '\\') scoped += '\\';
    scoped += c;
  }
  scoped += ':';
  scoped += key;
  return scoped;
}

}  // namespace routemq::middleware
