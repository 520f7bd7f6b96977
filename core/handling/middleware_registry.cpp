#include "core/handling/middleware_registry.hpp"

#include <fmt/format.h>

#include "core/config/config_error.hpp"

namespace routemq {

void MiddlewareRegistry::add(std::string name, MiddlewareFactory factory) {
  factories_[std::move(name)] = std::move(factory);
}

bool MiddlewareRegistry::contains(std::string_view name) const { return factories_.find(name) != factories_.end(); }

std::vector<std::string> MiddlewareRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

Middleware MiddlewareRegistry::create(const MiddlewareSpec& spec, const Environment& environment,
                                      const Services& services, const std::string& route_name,
                                      const std::string& client_id) const {
  auto factory = factories_.find(spec.name);
  if (factory == factories_.end()) {
    const auto where = spec.options.location();
    throw ConfigError(fmt::format("{}:{}:{}: {}: unknown middleware '{}' (available: {})", where.file, where.line,
                                  where.column, spec.options.path(), spec.name,
                                  names().empty() ? std::string("none") : fmt::format("{}", fmt::join(names(), ", "))));
  }
  Middleware middleware = factory->second(MiddlewareSetup{spec.options, environment, services, route_name, client_id});
  middleware.name = spec.name;
  return middleware;
}

}  // namespace routemq
