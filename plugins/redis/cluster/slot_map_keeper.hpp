#pragma once
// The cluster's slot map, learned and kept fresh. CLUSTER SLOTS is asked of the masters known, then
// of the seed nodes, one at a time until one answers with a map: at start, every refresh_interval,
// and within unsettled_interval of a sign that the map is stale (a MOVED, a node's lost connection,
// a slot without master), however many commands saw the sign.
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "core/asio.hpp"
#include "plugins/redis/cluster/cluster_replies.hpp"
#include "plugins/redis/cluster/cluster_settings.hpp"
#include "plugins/redis/connection/client_stats.hpp"
#include "plugins/redis/protocol/request_queue.hpp"

namespace routemq::redis {

class Connection;

class SlotMapKeeper : public std::enable_shared_from_this<SlotMapKeeper> {
 public:
  // Told of each map learned, on the strand, before it is used; answers whether every master is
  // reachable now (while one is not, the next question comes sooner).
  using Learned = std::function<bool(const SlotMap&)>;

  // Everything but published() on `strand`.
  static std::shared_ptr<SlotMapKeeper> create(asio::any_io_executor strand, ClusterSettings settings,
                                               std::shared_ptr<ClientStats> stats, Learned learned);
  void start();  // asks now
  void stop();
  void refresh_soon();
  // The map in use: null before the first is learned; a MOVED updates it in place.
  SlotMap* map() { return map_ ? &*map_ : nullptr; }
  // Any thread: a copy of the map as last learned (null before the first).
  std::shared_ptr<const SlotMap> published() const;

 private:
  SlotMapKeeper(asio::any_io_executor strand, ClusterSettings settings, std::shared_ptr<ClientStats> stats, Learned learned);
  void refresh();
  void ask_slots(std::size_t index, std::vector<NodeAddress> candidates, std::vector<std::string> problems);
  void adopt(SlotMap map);
  void schedule_refresh(std::chrono::milliseconds after);
  void schedule_refresh_at(Clock::time_point when);

  asio::any_io_executor strand_;
  ClusterSettings settings_;
  std::shared_ptr<ClientStats> stats_;
  std::shared_ptr<ClientStats> query_stats_ = std::make_shared<ClientStats>();  // the map's questions, apart
  Learned learned_;
  std::optional<SlotMap> map_;
  mutable std::mutex published_mutex_;
  std::shared_ptr<const SlotMap> published_;
  std::shared_ptr<Connection> query_;
  std::string problem_ = "the cluster's slots were not asked yet";
  bool stopped_ = false;
  bool refreshing_ = false;
  bool refresh_again_ = false;
  Clock::time_point last_asked_{};
  asio::steady_timer refresh_timer_;
};

}  // namespace routemq::redis
