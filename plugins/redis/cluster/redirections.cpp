#include "plugins/redis/cluster/redirections.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace routemq::redis {

bool not_run_here(const Reply& reply) {
  return reply.is_error() && (reply.text.starts_with("MOVED ") || reply.text.starts_with("ASK ") ||
                              reply.text.starts_with("READONLY") || retry_later(reply));
}

NextStep Redirections::after(const Reply& reply, const NodeAddress& sent_to, SlotMap& map) {
  if (!reply.is_error()) return {};
  if (const auto redirect = redirect_from(reply, sent_to)) {
    if (++redirected_ > limits_.redirections)
      return {NextStep::Kind::give_up, {}, {},
              fmt::format("more than {} redirections (the cluster's slots keep moving): {}", limits_.redirections,
                          reply.text)};
    if (redirect->kind == Redirect::Kind::ask) return {NextStep::Kind::ask_at, redirect->to, {}, {}};
    map.move(redirect->slot, redirect->to);
    return {NextStep::Kind::send_to, redirect->to, {}, {}};
  }
  const bool replica_now = reply.text.starts_with("READONLY");
  if (!replica_now && !retry_later(reply)) return {};  // WRONGTYPE, a script's error ...: the caller's
  if (++retried_ > limits_.retries)
    return {NextStep::Kind::give_up, {}, {}, fmt::format("still refused after {} retries: {}", limits_.retries, reply.text)};
  if (replica_now) return {NextStep::Kind::refresh_and_send, {}, {}, sent_to.text() + " is a replica now"};
  const auto wait = std::min(limits_.longest_wait, limits_.first_wait * (1 << std::min(retried_ - 1, 16)));
  return {NextStep::Kind::retry_after, {}, wait, {}};
}

}  // namespace routemq::redis
