#pragma once
// Finds the master a group of Sentinels watches, and follows it when it moves.
//
// - Resolving: the Sentinels are asked in turn (SENTINEL GET-MASTER-ADDR-BY-NAME, and SENTINEL
//   SENTINELS to learn the others) until one names the master; with none answering, again after a
//   backoff. The connections to the master check ROLE themselves (a Sentinel can answer stale).
// - Following: one Sentinel is watched for +switch-master, so a failover is seen the moment Sentinel
//   announces it; and any sign from a connection (lost, timed out, READONLY, ROLE not master) makes
//   it ask again, starting from the next Sentinel: a client that only waits for its socket to drop
//   stays on a demoted master.
// - Replicas (redis.read_from): when followed, SENTINEL REPLICAS is asked after every master adopted
//   and every replica_refresh_interval, and the replicas not flagged down are told (sentinel_pool.hpp reads from them).
// Connections read the address through lookup() and move by themselves (connection.hpp). Runs on the
// manager's executor; thread-safe where said. What to ask whom and when is decided by SentinelFsm
// (sentinel_fsm.hpp, sans-IO): this class carries out its actions (the questions, the watch, the
// retry timer, the snapshot other threads read) and feeds it what happened.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/connection/connection_settings.hpp"
#include "plugins/redis/protocol/result.hpp"
#include "plugins/redis/sentinel/sentinel_fsm.hpp"
#include "plugins/redis/sentinel/sentinel_replies.hpp"

namespace routemq::redis {

class Connection;

struct SentinelSettings {
  std::vector<NodeAddress> nodes;   // the Sentinels given; the others are learned
  std::string master_name;
  ConnectionSettings connection;    // how to reach a Sentinel: its auth, TLS and timers (host, port unused)
};

class MasterLocator : public std::enable_shared_from_this<MasterLocator> {
 public:
  static std::shared_ptr<MasterLocator> create(asio::any_io_executor executor, SentinelSettings settings);
  ~MasterLocator();

  void start();  // thread-safe: resolve, then watch
  void stop();   // thread-safe

  // Thread-safe.
  std::optional<NodeAddress> master() const;
  std::vector<NodeAddress> sentinels() const;
  // Moves of the master the connections followed: each time they reached a master other than the last.
  std::uint64_t failovers_followed() const { return failovers_.load(std::memory_order_relaxed); }
  std::string problem() const;  // why no master is known, when none is
  // What the master's connections follow (holds this weakly).
  std::shared_ptr<const MasterLookup> lookup();
  // `told` hears the master's replicas, on the executor, each time they are asked (see above). Before start().
  using ReplicasTold = std::function<void(const std::vector<NodeAddress>&)>;
  void follow_replicas(ReplicasTold told) { replicas_told_ = std::move(told); }
  static constexpr std::chrono::seconds replica_refresh_interval{5};

 private:
  MasterLocator(asio::any_io_executor executor, SentinelSettings settings);
  void suspect(const NodeAddress& at, const std::string& why);  // thread-safe
  void reached(const NodeAddress& at);                           // thread-safe
  void run(const SentinelActions& actions);
  void perform(const SentinelAction& action);
  void ask(const SentinelAction& action);
  static SentinelAnswer answer_from(const Result& result);
  void adopt(const SentinelAction& action);
  void tell_followers();
  void retry_later(const SentinelAction& action);
  void watch();
  void watch_next();
  bool on_switch_message(const Reply& push);
  ConnectionSettings settings_for(const NodeAddress& sentinel, bool reconnect) const;
  void set_problem(std::string problem);
  void ask_replicas();
  void ask_replicas_later();

  asio::any_io_executor executor_;
  SentinelSettings settings_;
  std::shared_ptr<ClientStats> sentinel_stats_ = std::make_shared<ClientStats>();  // not the master's counts
  asio::steady_timer retry_timer_;
  // Executor only.
  SentinelFsm fsm_;
  std::shared_ptr<Connection> query_;  // the one-shot connection of the question in progress
  int query_ticket_ = 0;               // its question's ticket: a stopped question's callback leaves it be
  std::shared_ptr<Connection> watch_;  // subscribed to +switch-master
  std::size_t watched_ = 0;
  int watch_failures_ = 0;
  ReplicasTold replicas_told_;                 // set before start: read without a lock
  std::shared_ptr<Connection> replica_query_;  // the one-shot connection of SENTINEL REPLICAS
  std::size_t replica_turn_ = 0;               // which Sentinel is asked next
  int replica_ticket_ = 0;                     // per question: an older one's answer is dropped
  asio::steady_timer replica_timer_;
  // Any thread.
  mutable std::mutex mutex_;
  std::optional<NodeAddress> master_;
  std::vector<NodeAddress> sentinels_;
  std::string problem_;
  std::vector<std::function<bool()>> followers_;  // connections to tell when the master moves
  std::optional<NodeAddress> reached_;            // the master the connections reached last
  std::atomic<std::uint64_t> failovers_{0};       // changes of reached_
};

}  // namespace routemq::redis
