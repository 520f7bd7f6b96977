#pragma once
// A typed name for a value that middleware passes to the handler through the Context. The type
// travels with the name, so a misspelt key or a wrong type does not compile:
//
//   inline constexpr ContextKey<RateLimitDecision> rate_limit_decision{"rate_limit"};   // in a header
//   ctx.set(rate_limit_decision, decision);                                              // middleware
//   if (const auto* decision = ctx.get(rate_limit_decision)) ...                          // handler
#include <string_view>

namespace routemq {

template <class T>
struct ContextKey {
  std::string_view name;  // unique among the keys of one message's chain
};

}  // namespace routemq
