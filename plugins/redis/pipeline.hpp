#pragma once
// Typed commands sent together: one write and one wait for all of them, each reply decoded as the
// manager's method of the same name decodes it (the value, or that method's default when there is
// no usable reply). Keys get the manager's prefix as there, so a scoped view can run one too. Any
// command of commands/commands.hpp can be queued with add(); the most used have a method here.
//
//   redis::Pipeline pipe(redis);
//   pipe.hset(hash, {{"last_value", v}, {"last_seen", now}});
//   pipe.lpush(recent, {v});
//   pipe.ltrim(recent, 0, 99);
//   auto count = pipe.incr(counter);           // a Queued<std::optional<long long>>
//   auto rank = pipe.add(redis::cmd::zrank(redis.key_space(), board, player));
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
#include "plugins/redis/commands/command.hpp"
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
  using Decode = T (*)(Result&&);
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

  // Any typed command, built for this pipeline's manager or view (its key_space()).
  template <class T>
  Queued<T> add(Command<T> command);

  Queued<std::optional<std::string>> get(std::string_view name);
  Queued<bool> set(std::string_view name, std::string_view value, SetOptions options = {});
  Queued<long long> del(std::string_view name);
  Queued<bool> exists(std::string_view name);
  Queued<bool> expire(std::string_view name, std::chrono::seconds ttl);
  Queued<long long> pttl(std::string_view name);  // -2 missing, -1 no expiry
  Queued<std::string> type(std::string_view name);  // "none" when missing
  Queued<std::optional<long long>> incr(std::string_view name);
  Queued<std::optional<long long>> incrby(std::string_view name, long long by);
  Queued<long long> hset(std::string_view name, const std::map<std::string, std::string>& mapping);
  Queued<std::optional<std::string>> hget(std::string_view name, std::string_view field);
  Queued<long long> lpush(std::string_view name, const std::vector<std::string>& values);
  Queued<long long> rpush(std::string_view name, const std::vector<std::string>& values);
  Queued<bool> ltrim(std::string_view name, long long start, long long stop);
  Queued<std::vector<std::string>> lrange(std::string_view name, long long start, long long stop);
  Queued<long long> sadd(std::string_view name, const std::vector<std::string>& members);

  std::size_t size() const { return places_.size(); }

  // run() executes the queued commands as one server-side script: all of them, with nothing of another
  // client in between, and their replies kept under `name` (for `ttl`) in the same step, as
  // `value_prefix` followed by their packed form (kept_replies.hpp), so that work already done can be
  // answered again without being done again (answer_from; a caller storing a marker there gets it
  // written with the work, at no extra command). Keys beyond the script's own are reached undeclared,
  // which a cluster refuses: there run() sends the commands as usual, keeps nothing, and this returns
  // false.
  bool keep_replies_in(std::string_view name, std::chrono::milliseconds ttl, std::string_view value_prefix = {});
  // run() sends nothing and its values are `kept`, the replies keep_replies_in() kept when this work
  // was done before. False (and run() then fails every command as unavailable) when `kept` does not
  // decode, or holds another number of replies than the commands queued (so: once they are queued).
  bool answer_from(std::string_view kept);
  // Sends what is queued as one request. True when Redis answered (a command may still have got an
  // error reply: its value is then its default); false when it did not (every value is its default).
  awaitable<bool> run();
  // The same inside MULTI ... EXEC: all or none, nothing of another client in between. False also
  // when Redis refused to queue a command (every value is then its default). Not with keep_replies_in.
  awaitable<bool> run_atomically();

 private:
  template <class T>
  friend class Queued;
  // Where each queued command's result is: a reply to come (its place among those sent), or one it
  // carried itself (nothing to send), or a refusal (not a command for the shared connections).
  struct Place {
    std::optional<std::size_t> sent;
    Result result;
    std::uint32_t reads = 0;
  };
  const Result& result(std::size_t index) const;
  awaitable<Result> run_keeping_replies(std::string bytes);
  bool take_replies(Result answer, std::size_t expected, bool in_array);
  void count_reads();

  RedisManager& redis_;
  CommandBatch batch_;
  std::vector<Place> places_;
  struct KeepIn {
    std::string name;
    std::chrono::milliseconds ttl;
    std::string value_prefix;
  };
  std::optional<KeepIn> keep_in_;           // keep_replies_in()
  std::optional<std::vector<Reply>> kept_;  // answer_from()
  std::vector<Result> replies_;  // of the commands sent, in order, once run
};

template <class T>
Queued<T> Pipeline::add(Command<T> command) {
  Place place;
  place.reads = command.reads();
  if (command.answered_here()) {
    place.result = command.local_result();
  } else if (!batch_.add(command)) {
    place.result = Result::failed(Failure::refused, "this command needs a connection of its own: not in a pipeline");
  } else {
    place.sent = batch_.size() - 1;
  }
  places_.push_back(std::move(place));
  return Queued<T>(*this, places_.size() - 1, command.decoder());
}

template <class T>
T Queued<T>::get() const {
  return decode_(Result(pipeline_->result(index_)));
}

}  // namespace routemq::redis
