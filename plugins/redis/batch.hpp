#pragma once
// Several commands written as one request: a pipeline (independent replies) or, through
// RedisManager::transaction(), a MULTI/EXEC block. Keys are given as they are; use
// RedisManager::key() to apply the prefix, as the typed methods do.
//
//   redis::Batch batch;
//   batch.push({"INCR", redis.key("a")}).push({"EXPIRE", redis.key("a"), "60"});
//   auto replies = co_await redis.pipeline(batch);   // one Result per command
#include <string>
#include <vector>

namespace routemq::redis {

class Batch {
 public:
  Batch& push(std::vector<std::string> command) {
    commands_.push_back(std::move(command));
    return *this;
  }
  const std::vector<std::vector<std::string>>& commands() const { return commands_; }
  std::size_t size() const { return commands_.size(); }
  bool empty() const { return commands_.empty(); }

 private:
  std::vector<std::vector<std::string>> commands_;
};

}  // namespace routemq::redis
