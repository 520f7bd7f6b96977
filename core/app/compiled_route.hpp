#pragma once
// A route as the app serves it: its info, its composed chain and its counters (private to core/app).
#include <chrono>
#include <optional>

#include "core/app/app.hpp"
#include "core/app/in_flight_limit.hpp"
#include "core/app/ordering.hpp"
#include "core/mqtt/acknowledgement.hpp"

namespace routemq {

// A message routed and admitted: it holds its in-flight slot until it has been handled, then
// acknowledges it to the broker. Declared in that order so that the slot is free again before the
// client hears of it (members go in reverse): the client may then hand over the next message at once.
struct AdmittedMessage {
  InboundMessage message;
  Params params;
  Acknowledgement acknowledgement;
  InFlightSlot slot;
  std::chrono::steady_clock::time_point arrived;
};

struct App::CompiledRoute {
  CompiledRoute(RouteInfo info, Chain chain, int subscription_id, std::optional<OrderKey> order_key)
      : info(std::move(info)), chain(std::move(chain)), subscription_id(subscription_id), order_key(std::move(order_key)) {}
  RouteInfo info;
  Chain chain;
  int subscription_id;  // 1-based position in the subscription list
  std::optional<OrderKey> order_key;  // none: messages run in parallel, finishing in any order
  OrderedLanes<AdmittedMessage> lanes;
  RouteStats stats;
};

}  // namespace routemq
