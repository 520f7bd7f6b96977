#pragma once
// A route as the app serves it: its info, its composed chain and its counters (private to core/app).
#include "core/app/app.hpp"

namespace routemq {

struct App::CompiledRoute {
  CompiledRoute(RouteInfo info, Chain chain, int subscription_id)
      : info(std::move(info)), chain(std::move(chain)), subscription_id(subscription_id) {}
  RouteInfo info;
  Chain chain;
  int subscription_id;  // 1-based position in the subscription list
  RouteStats stats;
};

}  // namespace routemq
