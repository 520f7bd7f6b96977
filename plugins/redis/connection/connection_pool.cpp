#include "plugins/redis/connection/connection_pool.hpp"

namespace routemq::redis {

ConnectionPool::ConnectionPool(asio::any_io_executor executor, const ConnectionSettings& settings, std::size_t size,
                               std::shared_ptr<ClientStats> stats, ConnectionEvents events)
    : stats_(std::move(stats)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(size, 1); ++i)
    connections_.push_back(Connection::create(executor, settings, stats_, events));
}

ConnectionPool::~ConnectionPool() { stop(); }

void ConnectionPool::start() {
  for (auto& connection : connections_) connection->start();
}

void ConnectionPool::stop() {
  for (auto& connection : connections_) connection->stop();
}

bool ConnectionPool::any_ready() const {
  for (const auto& connection : connections_)
    if (connection->ready()) return true;
  return false;
}

std::size_t ConnectionPool::ready_count() const {
  std::size_t count = 0;
  for (const auto& connection : connections_) count += connection->ready() ? 1 : 0;
  return count;
}

void ConnectionPool::submit(Request&& request) {
  if (auto* connection = next_ready(next_.fetch_add(1, std::memory_order_relaxed)))
    return connection->submit(std::move(request));
  unavailable_.refuse(request, Unavailable::Reason::not_connected);
}

void ConnectionPool::submit_on_executor(Request&& request) {
  if (auto* connection = next_ready(next_on_executor_++)) return connection->push_on_io_thread(std::move(request));
  for (auto& connection : connections_)
    if (connection->first_attempt()) return connection->push_on_io_thread(std::move(request));
  unavailable_.refuse(request, Unavailable::Reason::not_connected);
}

Connection* ConnectionPool::next_ready(std::size_t turn) {
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    auto& connection = connections_[(turn + i) % connections_.size()];
    if (connection->ready()) return connection.get();
  }
  return nullptr;
}

}  // namespace routemq::redis
