#pragma once
// Typed commands sent together: one write and one wait for all of them, each reply decoded as the
// manager's method of the same name decodes it (the value, or that method's default when there is
// no usable reply). Keys get the manager's prefix as there, so a scoped view can run one too.
//
//   redis::Pipeline pipe(redis);
//   pipe.hset(hash, {{"last_value", v}, {"last_seen", now}});
//   pipe.lpush(recent, {v});
//   pipe.ltrim(recent, 0, 99);
//   auto count = pipe.incr(counter);           // a Queued<std::optional<long long>>
//   co_await pipe.run();                       // false when Redis did not answer
//   std::optional<long long> n = count.get();  // after run()
//
// Raw commands, whose keys a view cannot check, go through RedisManager::pipeline(Batch) instead.
#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/asio.hpp"
#include "plugins/redis/protocol/result.hpp"
#include "plugins/redis/redis_manager.hpp"

namespace routemq::redis {

class Pipeline;

// One command's place in a pipeline, and its value once the pipeline ran. Valid while the pipeline is.
template <class T>
class Queued {
 public:
  T get() const;

 private:
  friend class Pipeline;
  using Decode = T (*)(const Result&);
  Queued(const Pipeline& pipeline, std::size_t index, Decode decode)
      : pipeline_(&pipeline), index_(index), decode_(decode) {}
  const Pipeline* pipeline_;
  std::size_t index_;
  Decode decode_;
};

class Pipeline {
 public:
  // The manager (or view) must outlive the pipeline.
  explicit Pipeline(RedisManager& redis);

  Queued<std::optional<std::string>> get(std::string_view name);
  Queued<bool> set(std::string_view name, std::string_view value, SetOptions options = {});
  Queued<long long> del(std::string_view name);
  Queued<bool> exists(std::string_view name);
  Queued<bool> expire(std::string_view name, std::chrono::seconds ttl);
  Queued<long long> pttl(std::string_view name);  // -2 missing, -1 no expiry
  Queued<std::optional<long long>> incr(std::string_view name);
  Queued<std::optional<long long>> incrby(std::string_view name, long long by);
  Queued<long long> hset(std::string_view name, const std::map<std::string, std::string>& mapping);
  Queued<std::optional<std::string>> hget(std::string_view name, std::string_view field);
  Queued<long long> lpush(std::string_view name, const std::vector<std::string>& values);
  Queued<long long> rpush(std::string_view name, const std::vector<std::string>& values);
  Queued<bool> ltrim(std::string_view name, long long start, long long stop);
  Queued<std::vector<std::string>> lrange(std::string_view name, long long start, long long stop);
  Queued<long long> sadd(std::string_view name, const std::vector<std::string>& members);

  std::size_t size() const { return queued_; }

  // run() executes the queued commands as one server-side script: all of them, with nothing of another
  // client in between, and their replies kept under `name` (for `ttl`) in the same step, so that work
  // already done can be answered again without being done again (answer_from). Keys beyond the
  // script's own are reached undeclared, which a cluster refuses: there run() sends the commands as
  // usual and keeps nothing.
  void keep_replies_in(std::string_view name, std::chrono::milliseconds ttl);
  // run() sends nothing and its values are `kept`, the replies keep_replies_in() kept when this work
  // was done before. False (and run() then fails every command as unavailable) when `kept` does not
  // decode, or holds another number of replies than the commands queued.
  bool answer_from(std::string_view kept);
  // Sends what is queued as one request. True when Redis answered (a command may still have got an
  // error reply: its value is then its default); false when it did not (every value is its default).
  awaitable<bool> run();

 private:
  template <class T>
  friend class Queued;
  // Encodes the command at once (from strings, or from views: SET's arguments), then takes its place.
  template <class T>
  Queued<T> queue(const std::vector<std::string>& args, T (*decode)(const Result&), bool is_read = false);
  template <class T>
  Queued<T> queue_views(std::span<const std::string_view> args, T (*decode)(const Result&));
  template <class T>
  Queued<T> place(T (*decode)(const Result&), bool is_read);
  const Result& result(std::size_t index) const;

  awaitable<Result> run_keeping_replies();

  RedisManager& redis_;
  std::string bytes_;  // the queued commands, encoded
  std::optional<std::pair<std::string, std::chrono::milliseconds>> keep_in_;  // keep_replies_in()
  std::optional<std::vector<Reply>> kept_;                                    // answer_from()
  std::size_t queued_ = 0;
  std::vector<std::size_t> reads_;  // the GET-like commands, counted as hits or misses
  std::vector<Result> results_;
};

template <class T>
T Queued<T>::get() const {
  return decode_(pipeline_->result(index_));
}

}  // namespace routemq::redis
