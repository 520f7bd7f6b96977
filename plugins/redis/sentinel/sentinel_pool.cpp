#include "plugins/redis/sentinel/sentinel_pool.hpp"

#include <algorithm>

#include "plugins/redis/sentinel/master_locator.hpp"

namespace routemq::redis {

// The replicas' pools: changed on the executor when the locator tells the replicas, read by submit()
// from any thread, both under the lock. A pool let go is stopped and kept until the end: a reader
// may hold it.
class SentinelPool::Replicas {
 public:
  Replicas(asio::any_io_executor executor, ConnectionSettings settings, std::size_t connections, ReadFrom read_from,
           std::shared_ptr<ClientStats> stats)
      : executor_(std::move(executor)),
        settings_(std::move(settings)),
        connections_(connections),
        stats_(std::move(stats)),
        chooser_(read_from, *stats_, "Sentinel") {
    settings_.master_lookup = nullptr;  // a replica's address is fixed: a promoted one is dropped, not followed
    settings_.replica = true;
  }

  void follow(const std::vector<NodeAddress>& replicas) {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    for (auto it = pools_.begin(); it != pools_.end();) {
      if (std::find(replicas.begin(), replicas.end(), it->first) != replicas.end()) {
        ++it;
        continue;
      }
      it->second->stop();
      retired_.push_back(std::move(it->second));
      it = pools_.erase(it);
    }
    for (const auto& replica : replicas) {
      const auto known = std::find_if(pools_.begin(), pools_.end(), [&](const auto& pool) { return pool.first == replica; });
      if (known != pools_.end()) continue;
      auto settings = settings_;
      settings.host = replica.host;
      settings.port = replica.port;
      auto& pool = pools_.emplace_back(replica, std::make_unique<ConnectionPool>(executor_, settings, connections_, stats_)).second;
      pool->start();
    }
  }

  // Sent to a ready replica (true), or left to the master's pool (false, a fallback counted).
  bool submit(Request& request) {
    std::lock_guard lock(mutex_);
    const auto chosen = chooser_.choose_among(pools_.size(), [&](std::size_t i) { return pools_[i].second->any_ready(); });
    if (!chosen) return false;
    pools_[*chosen].second->submit(std::move(request));
    return true;
  }

  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& [address, pool] : pools_) pool->stop();
  }

  std::vector<SinkNode> nodes() const {
    std::lock_guard lock(mutex_);
    std::vector<SinkNode> states;
    for (const auto& [address, pool] : pools_) states.push_back({address.text(), pool->ready_count(), std::nullopt});
    return states;
  }

  bool reads_from_replicas() const { return chooser_.reads_from_replicas(); }

 private:
  asio::any_io_executor executor_;
  ConnectionSettings settings_;
  std::size_t connections_;
  std::shared_ptr<ClientStats> stats_;
  mutable std::mutex mutex_;
  std::vector<std::pair<NodeAddress, std::unique_ptr<ConnectionPool>>> pools_;
  std::vector<std::unique_ptr<ConnectionPool>> retired_;
  bool stopped_ = false;
  ReplicaChooser chooser_;
};

SentinelPool::SentinelPool(asio::any_io_executor executor, ConnectionSettings master, std::size_t connections,
                           ReadFrom read_from, std::shared_ptr<ClientStats> stats, MasterLocator& locator)
    : master_(executor, master, connections, stats),
      replicas_(std::make_shared<Replicas>(executor, master, connections, read_from, stats)) {
  if (!replicas_->reads_from_replicas()) return;
  locator.follow_replicas([weak = std::weak_ptr<Replicas>(replicas_)](const std::vector<NodeAddress>& replicas) {
    if (auto self = weak.lock()) self->follow(replicas);
  });
}

SentinelPool::~SentinelPool() { stop(); }

void SentinelPool::start() { master_.start(); }

void SentinelPool::stop() {
  master_.stop();
  replicas_->stop();
}

void SentinelPool::submit(Request&& request) {
  if (request.read_only && replicas_->reads_from_replicas() && replicas_->submit(request)) return;
  master_.submit(std::move(request));
}

std::vector<SinkNode> SentinelPool::replicas() const { return replicas_->nodes(); }

}  // namespace routemq::redis
