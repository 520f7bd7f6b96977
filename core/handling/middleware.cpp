#include "core/handling/middleware.hpp"

namespace routemq {

awaitable<void> Next::operator()() const { return chain_->step(position_, *context_); }

namespace {
// How far this message's chain has been prepared (Middleware::prepare): positions below it are.
constexpr ContextKey<std::size_t> prepared_through{"chain.prepared_through"};
}  // namespace

awaitable<void> Chain::step(std::size_t position, Context& context) const {
  // Not a coroutine itself: it hands back the next coroutine, so a chain of N adds no frames of its own.
  if (position < middleware_.size()) {
    if (middleware_[position].prepare) prepare_run_from(position, context);
    return middleware_[position].handle(context, Next(*this, position + 1, context));
  }
  return handler_(context);
}

// Prepares the run of preparable middleware starting at `position`, once per message. The ones
// before it have passed by then: a run starts where the last middleware without prepare() let the
// message through (the example's validation before rate_limit and dedupe).
void Chain::prepare_run_from(std::size_t position, Context& context) const {
  if (const auto* through = context.get(prepared_through); through && *through > position) return;
  std::size_t end = position;
  while (end < middleware_.size() && middleware_[end].prepare) ++end;
  context.set(prepared_through, end);
  if (end - position < 2) return;  // alone, it gains nothing from starting early: its handle() does it all
  for (std::size_t i = position; i < end; ++i) middleware_[i].prepare(context);
}

std::vector<std::string> Chain::names() const {
  std::vector<std::string> names;
  for (const auto& m : middleware_) names.push_back(m.name);
  return names;
}

}  // namespace routemq
