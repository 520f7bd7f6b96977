#include "plugins/redis/leased_connection.hpp"

#include "plugins/redis/connection/connection.hpp"
#include "plugins/redis/protocol/command_policy.hpp"
#include "plugins/redis/protocol/decode.hpp"
#include "plugins/redis/protocol/encoder.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

LeasedConnection::LeasedConnection(std::shared_ptr<RedisManager> redis, std::shared_ptr<Connection> connection,
                                   Result refusal)
    : redis_(std::move(redis)), connection_(std::move(connection)), refusal_(std::move(refusal)) {}

LeasedConnection::LeasedConnection(LeasedConnection&&) noexcept = default;

LeasedConnection::~LeasedConnection() {
  if (connection_) connection_->stop();
}

awaitable<Result> LeasedConnection::command(std::vector<std::string> args) {
  if (const auto policy = command_policy(args); policy.place == CommandPlace::nowhere)
    co_return Result::failed(Failure::refused, policy.reason);
  co_return co_await send(encode_command(args), 1);
}

awaitable<Result> LeasedConnection::transaction(const Batch& batch) {
  for (const auto& command : batch.commands())
    if (const auto policy = command_policy(command); policy.place == CommandPlace::nowhere)
      co_return Result::failed(Failure::refused, policy.reason);
  std::string bytes;
  append_command(bytes, {"MULTI"});
  for (const auto& command : batch.commands()) append_command(bytes, command);
  append_command(bytes, {"EXEC"});
  co_return decode::transaction_outcome(co_await send(std::move(bytes), batch.size() + 2));
}

awaitable<Result> LeasedConnection::send(std::string bytes, std::size_t replies) {
  if (!connection_) co_return refusal_;
  co_return co_await redis_->execute_on(connection_, std::move(bytes), replies);
}

}  // namespace routemq::redis
