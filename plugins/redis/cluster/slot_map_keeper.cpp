#include "plugins/redis/cluster/slot_map_keeper.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "plugins/redis/connection/connection.hpp"
#include "plugins/redis/protocol/encoder.hpp"

namespace routemq::redis {

std::shared_ptr<SlotMapKeeper> SlotMapKeeper::create(asio::any_io_executor strand, ClusterSettings settings,
                                                     std::shared_ptr<ClientStats> stats, Learned learned) {
  return std::shared_ptr<SlotMapKeeper>(
      new SlotMapKeeper(std::move(strand), std::move(settings), std::move(stats), std::move(learned)));
}

SlotMapKeeper::SlotMapKeeper(asio::any_io_executor strand, ClusterSettings settings, std::shared_ptr<ClientStats> stats,
                             Learned learned)
    : strand_(std::move(strand)),
      settings_(std::move(settings)),
      stats_(std::move(stats)),
      learned_(std::move(learned)),
      refresh_timer_(strand_) {}

void SlotMapKeeper::start() {
  stopped_ = false;
  refresh();
}

void SlotMapKeeper::stop() {
  stopped_ = true;
  refresh_timer_.cancel();
  if (query_) query_->stop();
  query_.reset();
}

std::shared_ptr<const SlotMap> SlotMapKeeper::published() const {
  std::lock_guard lock(published_mutex_);
  return published_;
}

// No more often than once per unsettled_interval, however many commands saw the sign.
void SlotMapKeeper::refresh_soon() {
  if (stopped_) return;
  if (refreshing_) {
    refresh_again_ = true;
    return;
  }
  const auto due = last_asked_ + settings_.unsettled_interval;
  if (Clock::now() >= due) return refresh();
  if (refresh_timer_.expiry() > due) schedule_refresh_at(due);
}

void SlotMapKeeper::refresh() {
  if (stopped_ || refreshing_) return;
  refreshing_ = true;
  refresh_again_ = false;
  last_asked_ = Clock::now();
  std::vector<NodeAddress> candidates = map_ ? map_->masters() : std::vector<NodeAddress>{};
  for (const auto& seed : settings_.seeds)
    if (std::find(candidates.begin(), candidates.end(), seed) == candidates.end()) candidates.push_back(seed);
  ask_slots(0, std::move(candidates), {});
}

// The candidates in turn, one at a time: the first that answers with a map wins.
void SlotMapKeeper::ask_slots(std::size_t index, std::vector<NodeAddress> candidates, std::vector<std::string> problems) {
  if (stopped_) return;
  if (index >= candidates.size()) {
    refreshing_ = false;
    auto problem = fmt::format("no node said where the slots are ({})", fmt::join(problems, "; "));
    if (problem != problem_) spdlog::warn("redis: cluster: {}", problem);
    problem_ = std::move(problem);
    return schedule_refresh(settings_.unsettled_interval);
  }
  auto settings = settings_.node;
  settings.host = candidates[index].host;
  settings.port = candidates[index].port;
  settings.reconnect = false;
  settings.log_failures = false;
  query_ = Connection::create(strand_, settings, query_stats_);
  std::weak_ptr<SlotMapKeeper> weak = weak_from_this();
  query_->push_on_io_thread(
      {encode_command({"CLUSTER", "SLOTS"}), 1,
       [weak, index, candidates, problems](Result result) mutable {
         auto self = weak.lock();
         if (!self || self->stopped_) return;
         self->query_->stop();
         self->query_.reset();
         std::string why;
         auto map = result.ok() ? SlotMap::from_cluster_slots(result.reply, candidates[index], why) : std::nullopt;
         if (!map) {
           problems.push_back(candidates[index].text() + ": " + (result.ok() ? why : result.error_text()));
           return self->ask_slots(index + 1, std::move(candidates), std::move(problems));
         }
         self->adopt(std::move(*map));
       }});
  query_->start();
}

void SlotMapKeeper::adopt(SlotMap map) {
  refreshing_ = false;
  problem_.clear();
  stats_->slot_refreshes.fetch_add(1, std::memory_order_relaxed);
  const bool masters_ready = learned_(map);
  const bool settled = map.unserved_slots() == 0;
  if (!settled) spdlog::warn("redis: cluster: {} slot(s) have no master", map.unserved_slots());
  map_ = std::move(map);
  {
    std::lock_guard lock(published_mutex_);
    published_ = std::make_shared<const SlotMap>(*map_);
  }
  if (refresh_again_) return refresh_soon();
  schedule_refresh(settled && masters_ready ? settings_.refresh_interval : settings_.unsettled_interval);
}

void SlotMapKeeper::schedule_refresh(std::chrono::milliseconds after) { schedule_refresh_at(Clock::now() + after); }

void SlotMapKeeper::schedule_refresh_at(Clock::time_point when) {
  refresh_timer_.expires_at(when);  // replaces the wait scheduled before, if any
  refresh_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->refresh();
  });
}

}  // namespace routemq::redis
