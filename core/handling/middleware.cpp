#include "core/handling/middleware.hpp"

namespace routemq {

awaitable<void> Next::operator()() const { return chain_->step(position_, *context_); }

awaitable<void> Chain::step(std::size_t position, Context& context) const {
  // Not a coroutine itself: it hands back the next coroutine, so a chain of N adds no frames of its own.
  if (position < middleware_.size()) return middleware_[position].handle(context, Next(*this, position + 1, context));
  return handler_(context);
}

std::vector<std::string> Chain::names() const {
  std::vector<std::string> names;
  for (const auto& m : middleware_) names.push_back(m.name);
  return names;
}

}  // namespace routemq
