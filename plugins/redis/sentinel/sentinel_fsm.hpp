#pragma once
// Finding and following the master a group of Sentinels watches, as a sans-IO state machine:
// events in (started, a Sentinel answered, a sign from a connection, +switch-master, the retry is
// due), actions out (ask Sentinel i, adopt a master, schedule a retry, log). MasterLocator
// (master_locator.hpp) keeps the I/O: the connections to the Sentinels, the watch, the timer and the
// snapshot other threads read.
//
//   stopped --start--> resolving --an answer--> settled --a sign about the master--> resolving
//                          |  ^                                                          ^
//                          |  +---- retry due ----- waiting (none answered) -- sign: kept for the retry
//                          +--- none answered --------^
//
// A round asks the Sentinels in turn, from a starting index, one at a time: the first to name the
// master wins, and the Sentinels it knows are learned (added after those known, so the order of
// asking stays stable). A sign that the master moved (a connection lost, timed out, READONLY, ROLE
// not master) doubts the answer: the next round starts after the Sentinel that gave it, so a stale
// Sentinel is not simply asked again. Signs about an address already left behind are ignored.
// Signs that come in during a round are remembered, and ask once more only if they doubt the
// round's answer (tests/unit/redis/test_sentinel_fsm.cpp has each race CI found).
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "plugins/redis/protocol/node_address.hpp"

namespace routemq::redis {

// One Sentinel's answer, read from its replies: the master it names (nullopt: none, and `problem`
// says why) and the other Sentinels it knows.
struct SentinelAnswer {
  std::optional<NodeAddress> master;
  std::vector<NodeAddress> sentinels;
  std::string problem;
};

struct SentinelAction {
  enum class Kind {
    ask,             // ask Sentinel `index` (at `address`); its answer comes back with `ticket`
    adopt,           // the master is `address` now (`moved`: another than before): tell the followers
    learned,         // the Sentinels known are `sentinels` now
    problem,         // no master is known: `text` says why
    watch,           // an answer came: watch a Sentinel for +switch-master (when not yet)
    schedule_retry,  // call retry_due(`ticket`) after `delay`
    log_debug,       // `text`
    log_info,        // `text`
    log_warn,        // `text`
  };
  Kind kind = Kind::log_debug;
  int ticket = 0;
  std::size_t index = 0;
  NodeAddress address;
  bool moved = false;
  std::vector<NodeAddress> sentinels;
  std::string text;
  std::chrono::milliseconds delay{0};
};
using SentinelActions = std::vector<SentinelAction>;

class SentinelFsm {
 public:
  enum class Phase { stopped, resolving, settled, waiting };

  // The retry after a round nobody answered backs off like a connection: from retry_min, doubling,
  // up to retry_max.
  SentinelFsm(std::string master_name, std::vector<NodeAddress> sentinels, std::chrono::milliseconds retry_min,
              std::chrono::milliseconds retry_max);

  Phase phase() const { return phase_; }
  const std::optional<NodeAddress>& master() const { return master_; }
  const std::vector<NodeAddress>& sentinels() const { return sentinels_; }

  SentinelActions start();
  SentinelActions stop();
  // The answer to the question `ticket` (an ask action's); an older question's answer is ignored.
  SentinelActions answered(int ticket, const SentinelAnswer& answer);
  // A sign from a connection at `at` that the master moved; an empty host: from no address (a
  // connection waiting for a master).
  SentinelActions sign(const NodeAddress& at, const std::string& why);
  SentinelActions switched(const NodeAddress& master, const std::string& source);  // +switch-master
  SentinelActions retry_due(int ticket);

 private:
  // Signs that came in during the round in progress.
  struct Round {
    std::size_t asked = 0;
    std::vector<std::string> problems;
    bool doubted = false;                // a sign from no address
    std::vector<NodeAddress> suspected;  // signs from these addresses
  };

  void resolve(SentinelActions& out);
  void ask_next(SentinelActions& out);
  void give_up_round(SentinelActions& out);
  void settle(const NodeAddress& master, const std::vector<NodeAddress>& peers, SentinelActions& out);
  bool still_in_doubt(const NodeAddress& answer);
  void learn(const std::vector<NodeAddress>& found, SentinelActions& out);
  void adopt(const NodeAddress& master, const std::string& source, SentinelActions& out);
  void remember(const NodeAddress& at);

  std::string master_name_;
  std::vector<NodeAddress> sentinels_;
  std::chrono::milliseconds retry_min_;
  std::chrono::milliseconds retry_max_;

  Phase phase_ = Phase::stopped;
  Round round_;
  std::optional<NodeAddress> master_;
  std::string problem_;          // the last reason told, so that a new one is logged once
  bool answer_doubted_ = false;  // the next round starts after the Sentinel whose answer was doubted
  std::size_t first_to_ask_ = 0;
  std::size_t asking_ = 0;       // the index of the Sentinel asked now
  std::size_t answered_by_ = 0;
  int retry_attempts_ = 0;
  int question_ = 0;             // per question asked: an older question's answer is stale
  int retry_ticket_ = 0;         // per retry scheduled: an older timer is stale
};

}  // namespace routemq::redis
