#pragma once
// What a cluster client does with a node's reply to one request, without any I/O: hand it to the
// caller, send it again elsewhere (MOVED, ASK), wait and send it again (TRYAGAIN, CLUSTERDOWN), or
// learn the slots again first (READONLY: the node we thought a master is a replica now). Only
// replies that prove the command did not run lead to a resend; a timeout or a lost connection never
// reaches here (their outcome is unknown, and they are never replayed).
//
//   Redirections redirections;                 // one per request
//   auto next = redirections.after(reply, sent_to, map);
#include <chrono>
#include <string>

#include "plugins/redis/cluster/cluster_replies.hpp"

namespace routemq::redis {

struct NextStep {
  enum class Kind {
    deliver,          // the reply is the caller's (a value, or an error of its own)
    send_to,          // MOVED: the map was updated; send it to `node`
    ask_at,           // ASK: send ASKING then the request to `node`, this once (the map stays)
    retry_after,      // TRYAGAIN / CLUSTERDOWN: send it again after `wait`
    refresh_and_send, // READONLY: learn the slots again, then send it where they say
    give_up,          // too many redirections or retries: deliver the last reply, `why` says why
  };
  Kind kind = Kind::deliver;
  NodeAddress node;
  std::chrono::milliseconds wait{0};
  std::string why;
};

// A reply proving the command did not run there: MOVED, ASK, READONLY, TRYAGAIN or CLUSTERDOWN.
bool not_run_here(const Reply& reply);

class Redirections {
 public:
  // Redirections followed at most (MOVED and ASK together), retries at most (TRYAGAIN, CLUSTERDOWN,
  // READONLY), and the first retry's pause, doubled each time up to `longest_wait`.
  struct Limits {
    int redirections = 5;
    int retries = 5;
    std::chrono::milliseconds first_wait{10};
    std::chrono::milliseconds longest_wait{200};
  };
  Redirections() = default;
  explicit Redirections(Limits limits) : limits_(limits) {}

  // `reply` came from `sent_to`; a MOVED updates `map`.
  NextStep after(const Reply& reply, const NodeAddress& sent_to, SlotMap& map);

 private:
  Limits limits_;
  int redirected_ = 0;
  int retried_ = 0;
};

}  // namespace routemq::redis
