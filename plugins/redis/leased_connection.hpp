#pragma once
// A connection of the caller's own, for what cannot share the manager's multiplexed connections:
// optimistic transactions (WATCH ... MULTI ... EXEC), SELECT, and blocking commands (BLPOP, XREAD
// BLOCK, WAIT ...). What seed 001's get_client() is used for. Opened when leased, closed when the
// lease goes; commands on it are raw (keys through redis.key()) and may not leave the protocol
// (SUBSCRIBE, MONITOR: command_policy.hpp).
//
//   auto lease = redis.lease();
//   std::vector<std::string> watch{"WATCH", redis.key("stock")}, get{"GET", redis.key("stock")};
//   co_await lease.command(watch);                     // named: GCC 12 rejects a braced list in a co_await
//   auto stock = co_await lease.command(get);
//   redis::Batch update;
//   update.push({"SET", redis.key("stock"), std::to_string(left - 1)});
//   auto done = co_await lease.transaction(update);   // MULTI ... EXEC: a nil reply if "stock" changed
//
// Refused on a scoped view (its keys could not be kept in scope), unavailable while Redis is.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "plugins/redis/batch.hpp"
#include "plugins/redis/protocol/result.hpp"

namespace routemq::redis {

class RedisManager;
class Connection;

struct LeaseOptions {
  // Per command; a blocking command needs more than its own timeout. Default: redis.socket_timeout.
  std::optional<std::chrono::milliseconds> command_timeout{};
  // On a cluster: the key (as stored, redis.key(...)) whose slot's master the lease connects to; its
  // commands must keep to that slot. Unused on one Redis. Empty: the first seed node.
  std::string key{};
};

class LeasedConnection {
 public:
  LeasedConnection(LeasedConnection&&) noexcept;
  LeasedConnection& operator=(LeasedConnection&&) = delete;
  ~LeasedConnection();  // closes the connection (a transaction not executed is discarded by Redis)

  awaitable<Result> command(std::vector<std::string> args);
  // MULTI, the batch, EXEC in one write; the EXEC reply (nil when a WATCHed key changed).
  awaitable<Result> transaction(const Batch& batch);

 private:
  friend class RedisManager;
  // `connection` null: every command fails with `refusal`.
  LeasedConnection(std::shared_ptr<RedisManager> redis, std::shared_ptr<Connection> connection, Result refusal);
  awaitable<Result> send(std::string bytes, std::size_t replies);

  std::shared_ptr<RedisManager> redis_;
  std::shared_ptr<Connection> connection_;
  Result refusal_;
};

}  // namespace routemq::redis
